// Screens of the quoting module (see modules.ts). Products, currencies,
// price books and the settings use the generic record screens (/e/...);
// quotes, contracts and sales orders have pages of their own at the
// generic addresses, so that every link to one (lists, link fields,
// search, the approvals inbox) opens them: vue-router ranks a static
// segment above a parameter, so /e/quotes/:id wins over /e/:entity/:id.
// The ids are digits only, leaving /e/quotes/kanban to the generic route.
//   /e/quotes/new?opportunity=ID, /e/quotes/:id   the quote editor (the
//       generic form of a quote redirects to it);
//   /e/contracts/:id, /e/sales_orders/:id   the contract and order pages
//       (a draft contract is still edited in the generic form).
import type { RouteRecordRaw } from 'vue-router'
import type { ModuleNavItem } from './modules'
import type { RecordExtension } from './extensions'

const QuoteEditor = () => import('@/views/quoting/QuoteEditor.vue')
const DocPage = () => import('@/views/quoting/DocPage.vue')

export const quotingRoutes: RouteRecordRaw[] = [
  { path: 'e/quotes/new', name: 'quote-new', component: QuoteEditor },
  { path: 'e/quotes/:id(\\d+)', name: 'quote', component: QuoteEditor },
  { path: 'e/quotes/:id(\\d+)/edit', redirect: (to) => `/e/quotes/${to.params.id}` },
  { path: 'e/contracts/:id(\\d+)', name: 'contract', component: DocPage, meta: { entity: 'contracts' } },
  { path: 'e/sales_orders/:id(\\d+)', name: 'sales-order', component: DocPage, meta: { entity: 'sales_orders' } },
]

// The group "报价与订单" in the order of the work: the documents, then the
// catalog and the set-up.
export const quotingNav: ModuleNavItem[] = [
  { group: 'quoting', path: '/e/quotes', label: 'quoting.nav.quotes', test: 'nav-quotes', requires: 'quotes' },
  { group: 'quoting', path: '/e/contracts', label: 'quoting.nav.contracts', test: 'nav-contracts', requires: 'contracts' },
  { group: 'quoting', path: '/e/sales_orders', label: 'quoting.nav.orders', test: 'nav-sales_orders', requires: 'sales_orders' },
  { group: 'quoting', path: '/e/products', label: 'quoting.nav.products', test: 'nav-products', requires: 'products' },
  { group: 'quoting', path: '/e/price_books', label: 'quoting.nav.priceBooks', test: 'nav-price_books', requires: 'price_books' },
  { group: 'quoting', path: '/e/currencies', label: 'quoting.nav.currencies', test: 'nav-currencies', requires: 'currencies' },
  { group: 'quoting', path: '/e/quoting_settings', label: 'quoting.nav.settings', test: 'nav-quoting_settings', requires: 'quoting_settings' },
]

// Additions to the generic record screens (see extensions.ts): "New quote"
// and the quotes of an opportunity; the quotes, contracts and orders of an
// account on its 360° page.
export const quotingExtensions: RecordExtension[] = [
  { entity: 'opportunities', slot: 'detail-actions', component: () => import('@/components/quoting/NewQuoteButton.vue') },
  { entity: 'opportunities', slot: 'detail-top', component: () => import('@/components/quoting/RecordDocs.vue') },
  { entity: 'accounts', slot: 'overview', component: () => import('@/components/quoting/RecordDocs.vue') },
]
