// Screens of the print-template engine (see modules.ts): the template list
// and editor for administrators (under 系统设置), and the "打印" button of
// every record page (a detail-actions extension of all entities, shown
// where the user holds the print right and the entity has templates).
import type { RouteRecordRaw } from 'vue-router'
import type { ModuleNavItem } from './modules'
import type { RecordExtension } from './extensions'

export const printingRoutes: RouteRecordRaw[] = [
  { path: 'admin/print-templates', name: 'print-templates', component: () => import('@/views/printing/PrintTemplates.vue'), meta: { admin: true, nav: '/admin/print-templates' } },
  { path: 'admin/print-templates/:id', name: 'print-template', component: () => import('@/views/printing/PrintTemplateEditor.vue'), meta: { admin: true, nav: '/admin/print-templates' } },
]

export const printingNav: ModuleNavItem[] = [
  { group: 'system', path: '/admin/print-templates', label: 'printing.nav', test: 'nav-print-templates', admin: true },
]

export const printingExtensions: RecordExtension[] = [
  { entity: '*', slot: 'detail-actions', component: () => import('@/views/printing/PrintButton.vue') },
]
