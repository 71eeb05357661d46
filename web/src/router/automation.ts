// Screens of the automation part of the automation issue, mounted under the app shell.
// `meta.nav` names the navigation entry a screen belongs to (its menu item
// stays highlighted on the screens below it).
import type { RouteRecordRaw } from 'vue-router'

export const automationRoutes: RouteRecordRaw[] = [
  { path: 'inbox', name: 'auto-inbox', component: () => import('@/views/auto/InboxView.vue') },
  { path: 'settings/notifications', name: 'auto-prefs', component: () => import('@/views/auto/PrefsView.vue') },
  { path: 'tasks/mine', name: 'auto-my-tasks', component: () => import('@/views/auto/MyTasksView.vue'), meta: { nav: '/tasks/mine' } },
  { path: 'admin/rules', name: 'auto-rules', component: () => import('@/views/auto/RulesView.vue'), meta: { admin: true, nav: '/admin/rules' } },
  { path: 'admin/rules/new', name: 'auto-rule-new', component: () => import('@/views/auto/RuleEditor.vue'), meta: { admin: true, nav: '/admin/rules' } },
  { path: 'admin/rules/:id', name: 'auto-rule', component: () => import('@/views/auto/RuleEditor.vue'), meta: { admin: true, nav: '/admin/rules' } },
  { path: 'admin/notify/email', name: 'auto-email', component: () => import('@/views/auto/EmailSettingsView.vue'), meta: { admin: true, nav: '/admin/notify/email' } },
  { path: 'admin/notify/robots', name: 'auto-robots', component: () => import('@/views/auto/RobotsView.vue'), meta: { admin: true, nav: '/admin/notify/robots' } },
]
