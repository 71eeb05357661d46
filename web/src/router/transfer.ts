// Screens of the transfer part of the integration issue, mounted under the
// app shell: the import wizard and the list of imports (for everyone who
// may create records), and the outbound allow-list (administrators).
// Webhooks, their deliveries and inbound endpoints are records shown by the
// generic entity screens. `meta.nav` names the navigation entry a screen
// belongs to.
import type { RouteRecordRaw } from 'vue-router'

export const transferRoutes: RouteRecordRaw[] = [
  { path: 'imports', name: 'imports', component: () => import('@/views/transfer/ImportsView.vue'), meta: { nav: '/imports' } },
  { path: 'imports/:id(\\d+)', name: 'import', component: () => import('@/views/transfer/ImportWizard.vue'), meta: { nav: '/imports' } },
  { path: 'import/:entity', name: 'import-new', component: () => import('@/views/transfer/ImportWizard.vue'), meta: { nav: '/imports' } },
  { path: 'admin/outbound', name: 'outbound', component: () => import('@/views/transfer/OutboundView.vue'), meta: { admin: true, nav: '/admin/outbound' } },
]
