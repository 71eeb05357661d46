// Screens of the report engine (see modules.ts): the dashboards (the list,
// and one dashboard with its shared filters and grid of report cards) and
// the report builder (the reports by category, a new report, editing one).
// Reports and dashboards are records of system entities; every signed-in
// user may read the shared ones and keep their own.
import type { RouteRecordRaw } from 'vue-router'
import type { ModuleNavItem } from './modules'

const Builder = () => import('@/views/reports/ReportBuilder.vue')

export const reportsRoutes: RouteRecordRaw[] = [
  { path: 'dashboards', name: 'dashboards', component: () => import('@/views/reports/DashboardsView.vue') },
  { path: 'dashboards/:id(\\d+)', name: 'dashboard', component: () => import('@/views/reports/DashboardView.vue'), meta: { nav: '/dashboards' } },
  { path: 'reports', name: 'reports', component: () => import('@/views/reports/ReportsView.vue') },
  { path: 'reports/new', name: 'report-new', component: Builder, meta: { nav: '/reports' } },
  { path: 'reports/:id(\\d+)/edit', name: 'report-edit', component: Builder, meta: { nav: '/reports' } },
]

export const reportsNav: ModuleNavItem[] = [
  { group: 'reports', path: '/dashboards', label: 'reports.nav.dashboards', test: 'nav-dashboards', requires: 'dashboards' },
  { group: 'reports', path: '/reports', label: 'reports.nav.reports', test: 'nav-reports', requires: 'reports' },
]
