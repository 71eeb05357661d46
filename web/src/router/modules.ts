// The business modules' screens (crm, leadpool, sales, marketing, grading…).
// Each module has a file here exporting its routes (mounted under the app
// shell) and its navigation entries; the shell puts a module's entries at
// the head of the navigation group it names (a module key of utils/modules),
// in the order of moduleNav, showing each only when the user may read the
// entity it requires. The group's other entities follow by name; an entry
// may name an entity's list (/e/<name>) to place it, and a path is listed
// once per group, where it first appears.
import type { RouteRecordRaw } from 'vue-router'
import { crmRoutes, crmNav } from './crm'
import { leadpoolRoutes, leadpoolNav } from './leadpool'
import { salesRoutes, salesNav } from './sales'
import { marketingRoutes, marketingNav } from './marketing'
import { gradingRoutes, gradingNav } from './grading'
import { quotingRoutes, quotingNav } from './quoting'
import { printingRoutes, printingNav } from './printing'
import { reportsRoutes, reportsNav } from './reports'

/** A module's navigation entry. */
export interface ModuleNavItem {
  /** The navigation group (module key, e.g. "crm", "sales"). */
  group: string
  path: string
  /** An i18n key for the entry's label. */
  label: string
  /** data-test of the entry. */
  test: string
  /** Shown only to users who may read this entity. */
  requires?: string
  /** Shown only to administrators. */
  admin?: boolean
}

export const moduleRoutes: RouteRecordRaw[] = [...crmRoutes, ...leadpoolRoutes, ...salesRoutes, ...marketingRoutes, ...gradingRoutes, ...quotingRoutes, ...printingRoutes, ...reportsRoutes]

export const moduleNav: ModuleNavItem[] = [...crmNav, ...leadpoolNav, ...salesNav, ...marketingNav, ...gradingNav, ...quotingNav, ...printingNav, ...reportsNav]
