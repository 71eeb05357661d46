// Routes. Every screen is its own chunk, loaded when first opened.
import { createRouter, createWebHistory, type RouteRecordRaw } from 'vue-router'
import { useSession } from '@/stores/session'

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
      { path: 'e/:entity/:id', name: 'detail', component: () => import('@/views/EntityDetail.vue') },
      { path: 'e/:entity/:id/edit', name: 'edit', component: () => import('@/views/EntityForm.vue') },
      { path: ':pathMatch(.*)*', name: 'notfound', component: () => import('@/views/NotFound.vue') },
    ],
  },
]

export const router = createRouter({
  history: createWebHistory(),
  routes,
  scrollBehavior(_to, _from, saved) {
    return saved ?? { top: 0 }
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
  return true
})
