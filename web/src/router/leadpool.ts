// Screens of the leadpool module (see modules.ts): the public pools (公海)
// with the lead KPIs.
import type { RouteRecordRaw } from 'vue-router'
import type { ModuleNavItem } from './modules'

export const leadpoolRoutes: RouteRecordRaw[] = [
  { path: 'leads/pool', name: 'lead-pool', component: () => import('@/views/leadpool/LeadPoolView.vue'), meta: { nav: '/leads/pool' } },
]

export const leadpoolNav: ModuleNavItem[] = [
  { group: 'crm', path: '/leads/pool', label: 'leadpool.nav', test: 'nav-lead-pool', requires: 'leads' },
]
