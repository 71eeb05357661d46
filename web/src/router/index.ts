// Routes. Every screen is its own chunk, loaded when first opened.
import { createRouter, createWebHistory, START_LOCATION, type RouteRecordRaw } from 'vue-router'
import { useSession } from '@/stores/session'
import { useMeta } from '@/stores/meta'
import { useViews } from '@/stores/views'
import { flowRoutes } from './flow'
import { automationRoutes } from './automation'
import { transferRoutes } from './transfer'
import { moduleRoutes } from './modules'

const routes: RouteRecordRaw[] = [
  { path: '/login', name: 'login', component: () => import('@/views/LoginView.vue'), meta: { public: true } },
  {
    path: '/',
    component: () => import('@/layouts/AppLayout.vue'),
    children: [
      { path: '', name: 'home', component: () => import('@/views/HomeView.vue') },
      { path: 'search', name: 'search', component: () => import('@/views/SearchView.vue') },
      { path: 'profile', name: 'profile', component: () => import('@/views/ProfileView.vue') },
      { path: 'e/:entity', name: 'list', component: () => import('@/views/EntityList.vue') },
      { path: 'e/:entity/new', name: 'create', component: () => import('@/views/EntityForm.vue') },
      { path: 'e/:entity/kanban', name: 'kanban', component: () => import('@/views/EntityKanban.vue') },
      { path: 'e/:entity/:id', name: 'detail', component: () => import('@/views/EntityDetail.vue') },
      { path: 'e/:entity/:id/edit', name: 'edit', component: () => import('@/views/EntityForm.vue') },
      { path: 'admin/departments', name: 'departments', component: () => import('@/views/admin/DepartmentsView.vue'), meta: { admin: true } },
      { path: 'admin/roles', name: 'roles', component: () => import('@/views/admin/RolesView.vue'), meta: { admin: true } },
      { path: 'admin/roles/new', name: 'role-new', component: () => import('@/views/admin/RoleEditor.vue'), meta: { admin: true } },
      { path: 'admin/roles/:id', name: 'role', component: () => import('@/views/admin/RoleEditor.vue'), meta: { admin: true } },
      { path: 'admin/tokens', name: 'tokens', component: () => import('@/views/admin/TokensView.vue'), meta: { admin: true } },
      ...flowRoutes,
      ...automationRoutes,
      ...transferRoutes,
      ...moduleRoutes,
      { path: ':pathMatch(.*)*', name: 'notfound', component: () => import('@/views/NotFound.vue') },
    ],
  },
]

export const router = createRouter({
  history: createWebHistory(),
  routes,
  scrollBehavior(_to, from, saved) {
    if (saved) return saved
    // A fresh page is at the top already; scrolling would force a layout
    // of the half-built first screen.
    if (from === START_LOCATION) return false
    return { top: 0 }
  },
})

router.beforeEach(async (to) => {
  const session = useSession()
  let signedIn = false
  try {
    signedIn = await session.load()
  } catch {
    signedIn = false
  }
  if (!to.meta.public && !signedIn) {
    return { name: 'login', query: to.fullPath !== '/' ? { redirect: to.fullPath } : {} }
  }
  if (to.name === 'login' && signedIn) return { path: '/' }
  if (signedIn) {
    // Ask for what the screen will need while its code is still loading:
    // the metadata, and a list's saved views (they choose the default view).
    useMeta().load().catch(() => {})
    const e = to.params.entity
    if (typeof e === 'string' && (to.name === 'list' || to.name === 'kanban')) void useViews().load(e)
  }
  // Administration screens do not exist for others (the API refuses them anyway).
  if (to.meta.admin && !session.isAdmin) return { name: 'notfound', params: { pathMatch: to.path.slice(1).split('/') } }
  return true
})
