// Modules group entities in navigation and in the permission matrix.
import { t } from '@/i18n'

export const MODULE_ORDER = ['crm', 'sales', 'reports', 'quoting', 'production', 'quality', 'inventory', 'mrp', 'purchasing', 'fulfillment', 'service', 'marketing', 'channel', 'engine', 'custom', 'org', 'system']

export function moduleLabel(m: string): string {
  const key = `modules.${m}`
  const s = t(key)
  return s === key ? m : s
}

export function moduleRank(m: string): number {
  const i = MODULE_ORDER.indexOf(m)
  return i < 0 ? 99 : i
}
