// Helpers shared by the report screens: who may change a report or a
// dashboard, which of the shared filters are in force, and a report's
// name in the current language.
import type { DashFilters, DashboardRecord, ReportRecord } from '@/api/reports'
import type { RecordData } from '@/api/types'
import { useSession } from '@/stores/session'
import { locale, t } from '@/i18n'

/** canChange: the user may update this report or dashboard (their own; administrators any). */
export function canChange(rec: RecordData | null | undefined): boolean {
  if (!rec) return false
  const s = useSession()
  if (s.isAdmin) return true
  return !!rec.owner && rec.owner === s.user?.id
}

/** nameOf is a report's or dashboard's name in the current language. */
export function nameOf(rec: Pick<ReportRecord | DashboardRecord, 'name' | 'name_en'> | null | undefined): string {
  if (!rec) return ''
  return locale.value === 'en' && rec.name_en ? rec.name_en : rec.name
}

/** The shared filters, as the data's `applied` names them. */
export const FILTER_KEYS = ['date', 'region', 'owner', 'product_line'] as const

/** activeFilters lists the shared filters set in f. */
export function activeFilters(f: DashFilters): string[] {
  const out: string[] = []
  if (f.preset || f.from || f.to) out.push('date')
  if (f.region) out.push('region')
  if (f.owner) out.push('owner')
  if (f.product_line) out.push('product_line')
  return out
}

export function filterName(k: string): string {
  switch (k) {
    case 'date':
      return t('reports.filters.date')
    case 'region':
      return t('reports.filters.region')
    case 'owner':
      return t('reports.filters.owner')
    case 'product_line':
      return t('reports.filters.productLine')
  }
  return k
}
