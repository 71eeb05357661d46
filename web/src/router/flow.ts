// Screens of the flow part of the automation issue, mounted under the app shell.
import type { RouteRecordRaw } from 'vue-router'

export const flowRoutes: RouteRecordRaw[] = [
  { path: 'approvals', name: 'approvals', component: () => import('@/views/flow/ApprovalsInbox.vue') },
  { path: 'admin/flows', name: 'flows', component: () => import('@/views/flow/FlowList.vue'), meta: { admin: true } },
  { path: 'admin/flows/:id', name: 'flow-designer', component: () => import('@/views/flow/FlowDesigner.vue'), meta: { admin: true } },
]
