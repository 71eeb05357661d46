// Screens of the sales module (see modules.ts). Opportunities, pipelines and
// targets use the generic record screens (/e/...); these add the pipeline
// board (drag a deal between stages, win and lose dialogs) and the
// forecast (weighted forecast, funnel, sales cycle, target attainment).
import type { RouteRecordRaw } from 'vue-router'
import type { ModuleNavItem } from './modules'

export const salesRoutes: RouteRecordRaw[] = [
  { path: 'sales/board', name: 'sales-board', component: () => import('@/views/sales/SalesBoard.vue') },
  { path: 'sales/forecast', name: 'sales-forecast', component: () => import('@/views/sales/SalesForecast.vue') },
]

export const salesNav: ModuleNavItem[] = [
  { group: 'sales', path: '/sales/board', label: 'sales.nav.board', test: 'nav-sales-board', requires: 'opportunities' },
  { group: 'sales', path: '/sales/forecast', label: 'sales.nav.forecast', test: 'nav-sales-forecast', requires: 'opportunities' },
]
