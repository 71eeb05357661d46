// Screens of the grading module (see modules.ts): the rules with the
// "recompute now" button (administrators); a rule is edited on the generic
// record screens (/e/grade_rules/:id). An account's "Regrade" button is the
// generic button of the action declared in accounts.json (`actions`).
import type { RouteRecordRaw } from 'vue-router'
import type { ModuleNavItem } from './modules'

export const gradingRoutes: RouteRecordRaw[] = [
  { path: 'grading/rules', name: 'grading-rules', component: () => import('@/views/grading/GradeRulesView.vue'), meta: { admin: true } },
]

export const gradingNav: ModuleNavItem[] = [
  { group: 'crm', path: '/grading/rules', label: 'grading.nav.rules', test: 'nav-grading-rules', admin: true },
]
