// Screens of the crm module (see modules.ts). Leads, accounts, contacts,
// activities and web forms use the generic record screens (/e/...); these
// add the phone-sized capture and check-in, the merge screen, the account
// 360° page, the hand-over and the web-form embedding.
//
// The 360° page has a route of its own (/crm/accounts/:id) rather than
// replacing /e/accounts/:id: the generic page stays the place to edit an
// account (history, files, approvals, related lists), and the 360° page
// links to it; "客户 360°" in the navigation opens a search of accounts.
import type { RouteRecordRaw } from 'vue-router'
import type { ModuleNavItem } from './modules'
import type { RecordExtension } from './extensions'

export const crmRoutes: RouteRecordRaw[] = [
  { path: 'crm/card', name: 'crm-card', component: () => import('@/views/crm/LeadQuick.vue') },
  { path: 'crm/leads/new', name: 'crm-lead-new', component: () => import('@/views/crm/LeadQuick.vue') },
  { path: 'crm/leads/merge', name: 'crm-lead-merge', component: () => import('@/views/crm/LeadMerge.vue') },
  { path: 'crm/checkin', name: 'crm-checkin', component: () => import('@/views/crm/CheckIn.vue') },
  { path: 'crm/accounts', name: 'crm-accounts', component: () => import('@/views/crm/AccountPick.vue') },
  { path: 'crm/accounts/:id', name: 'crm-account-360', component: () => import('@/views/crm/AccountOverview.vue') },
  { path: 'crm/web-forms/:id/embed', name: 'crm-webform-embed', component: () => import('@/views/crm/WebFormEmbed.vue') },
  { path: 'crm/transfer', name: 'crm-transfer', component: () => import('@/views/crm/TransferView.vue'), meta: { admin: true } },
]

// The crm group in the order a sales team works: the lead lists (the
// leads, then the pool of the leadpool module), accounts with their 360°
// page, contacts and activities, the quick capture, then the set-up (web
// forms, hand-over). The entity lists are named here to place them; the
// group's set-up entries of other modules (assignment rules, pools, grade
// rules) come after these.
export const crmNav: ModuleNavItem[] = [
  { group: 'crm', path: '/e/leads', label: 'crm.nav.leads', test: 'nav-leads', requires: 'leads' },
  { group: 'crm', path: '/leads/pool', label: 'leadpool.nav', test: 'nav-lead-pool', requires: 'leads' },
  { group: 'crm', path: '/e/accounts', label: 'crm.nav.accounts', test: 'nav-accounts', requires: 'accounts' },
  { group: 'crm', path: '/crm/accounts', label: 'crm.nav.accounts360', test: 'nav-crm-360', requires: 'accounts' },
  { group: 'crm', path: '/e/contacts', label: 'crm.nav.contacts', test: 'nav-contacts', requires: 'contacts' },
  { group: 'crm', path: '/e/activities', label: 'crm.nav.activities', test: 'nav-activities', requires: 'activities' },
  { group: 'crm', path: '/crm/leads/new', label: 'crm.nav.newLead', test: 'nav-crm-lead-new', requires: 'leads' },
  { group: 'crm', path: '/crm/card', label: 'crm.nav.card', test: 'nav-crm-card', requires: 'leads' },
  { group: 'crm', path: '/e/web_forms', label: 'crm.nav.webForms', test: 'nav-web_forms', requires: 'web_forms' },
  { group: 'crm', path: '/crm/transfer', label: 'crm.nav.transfer', test: 'nav-crm-transfer', admin: true },
]

// Additions to the generic record screens (see extensions.ts): the
// duplicate hint on the lead and account forms, "Convert" (with the
// opportunity) and "Find & merge duplicates" on a lead, "360° view" on an
// account, "Embed code" on a web form.
export const crmExtensions: RecordExtension[] = [
  { entity: 'leads', slot: 'form-top', component: () => import('@/components/crm/DuplicateHint.vue') },
  { entity: 'accounts', slot: 'form-top', component: () => import('@/components/crm/DuplicateHint.vue') },
  { entity: 'leads', slot: 'detail-actions', component: () => import('@/components/crm/LeadConvert.vue'), actions: ['convert'] },
  { entity: 'leads', slot: 'detail-actions', component: () => import('@/components/crm/CrmRecordLinks.vue'), actions: ['merge'] },
  { entity: 'accounts', slot: 'detail-actions', component: () => import('@/components/crm/CrmRecordLinks.vue') },
  { entity: 'web_forms', slot: 'detail-actions', component: () => import('@/components/crm/CrmRecordLinks.vue') },
]
