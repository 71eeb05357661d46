// Screens of the marketing module (see modules.ts). Campaigns use the
// generic record screens (/e/campaigns); the ROI table has its own.
import type { RouteRecordRaw } from 'vue-router'
import type { ModuleNavItem } from './modules'

export const marketingRoutes: RouteRecordRaw[] = [
  { path: 'marketing/roi', name: 'marketing-roi', component: () => import('@/views/marketing/RoiView.vue') },
]

export const marketingNav: ModuleNavItem[] = [
  { group: 'marketing', path: '/marketing/roi', label: 'marketing.nav.roi', test: 'nav-marketing-roi', requires: 'campaigns' },
]
