// How a field's value reads as text: shared by FieldValue (every read-only
// value) and the list table, which renders most cells as plain text without
// a component per cell (fifty rows of components cost the list screen a
// good part of its first second).
import type { FieldMeta } from '@/api/types'
import { formatAddress, formatDateTime, formatDecimal, formatMoney, formatTime } from '@/utils/format'
import { richPlainText } from '@/utils/richtext'

/** isEmptyValue: nothing to show (rendered as a dash). */
export function isEmptyValue(v: unknown): boolean {
  return v === null || v === undefined || v === '' || (Array.isArray(v) && v.length === 0)
}

/** valueKind is the type a value is shown as (a formula by its result type). */
export function valueKind(f: FieldMeta, v: unknown): string {
  if (f.type !== 'formula') return f.type
  const r = f.result_type
  if (r === 'boolean') return 'boolean'
  if (r === 'money') return 'money'
  if (r === 'decimal' || r === 'percent' || r === 'integer') return r
  if (r === 'date' || r === 'datetime') return r
  return typeof v === 'boolean' ? 'boolean' : 'text'
}

/** NUMERIC_KINDS are right-aligned, with tabular digits. */
export const NUMERIC_KINDS = new Set(['money', 'decimal', 'percent', 'integer', 'rollup'])

/** PLAIN_KINDS read as text alone (no link, tag, image or markup). */
export const PLAIN_KINDS = new Set([
  'text', 'long_text', 'rich_text', 'barcode', 'autonumber', 'integer', 'money', 'decimal', 'rollup', 'percent',
  'date', 'datetime', 'time', 'address', 'geo', 'json',
])

/** valueText is the text of a non-empty value of the given kind. */
export function valueText(f: FieldMeta, kind: string, v: unknown, compact: boolean): string {
  switch (kind) {
    case 'money':
      return formatMoney(v, f.currency || 'CNY')
    case 'decimal':
    case 'rollup':
      return formatDecimal(v, f)
    case 'percent':
      return formatDecimal(v, f) + '%'
    case 'datetime':
      return formatDateTime(v)
    case 'time':
      return formatTime(v)
    case 'address':
      return formatAddress(v)
    case 'geo': {
      const g = v as { lat?: string; lng?: string; label?: string }
      return [g?.label, g?.lat && g?.lng ? `${g.lat}, ${g.lng}` : ''].filter(Boolean).join(' · ')
    }
    case 'rich_text':
      // List cells, cards, timeline, history: the plain text, shortened.
      return richPlainText(String(v), 120)
    case 'json':
      return compact ? JSON.stringify(v) : JSON.stringify(v, null, 2)
    default:
      return typeof v === 'object' ? JSON.stringify(v) : String(v)
  }
}
