// Formatting shared by the sales screens: money that may be hidden (null →
// a dash), compact amounts for column headers, percentages and the days
// since a deal was last touched.
import { formatMoney } from '@/utils/format'
import { locale, t } from '@/i18n'

/** money shows a decimal string as money, or a dash when the figure is hidden (null). */
export function money(v: string | null | undefined): string {
  return v === null || v === undefined || v === '' ? t('sales.dash') : formatMoney(v)
}

/**
 * compact shows an amount shortly (¥112万, ¥1.1M) for the board's column
 * headers; the exact figure goes in the title. Display only.
 */
export function compact(v: string | null | undefined): string {
  if (v === null || v === undefined || v === '') return t('sales.dash')
  const n = Number(v)
  if (!Number.isFinite(n)) return v
  return '¥' + new Intl.NumberFormat(locale.value, { notation: 'compact', maximumFractionDigits: 1 }).format(n)
}

/** pct shows a ratio (0.4521) as a percentage (45.2%), or a dash. */
export function pct(ratio: number | string | null | undefined): string {
  if (ratio === null || ratio === undefined || ratio === '') return t('sales.dash')
  const n = Number(ratio)
  return Number.isFinite(n) ? `${(n * 100).toFixed(1)}%` : t('sales.dash')
}

/** daysSince is the whole days from an RFC 3339 time to now (0 for today or the future). */
export function daysSince(iso: string | null | undefined, now = Date.now()): number | null {
  if (!iso) return null
  const ms = Date.parse(iso)
  if (!Number.isFinite(ms)) return null
  return Math.max(0, Math.floor((now - ms) / 86400000))
}

/** lastTouch is the later of an opportunity's last activity and last update (what the key-deal gate reads). */
export function lastTouch(rec: { last_activity_at?: string | null; updated_at?: string | null }): string | null {
  const a = rec.last_activity_at ? Date.parse(rec.last_activity_at) : NaN
  const u = rec.updated_at ? Date.parse(String(rec.updated_at)) : NaN
  if (Number.isFinite(a) && (!Number.isFinite(u) || a > u)) return rec.last_activity_at ?? null
  return rec.updated_at ? String(rec.updated_at) : null
}

/** shanghaiDay is the date (YYYY-MM-DD) of a moment in Asia/Shanghai. */
export function shanghaiDay(d: Date): string {
  return new Date(d.getTime() + 8 * 3600 * 1000).toISOString().slice(0, 10)
}

/** periodStart is the first day (YYYY-MM-DD) of the month, quarter or year holding day. */
export function periodStart(period: string, day: string): string {
  const y = day.slice(0, 4)
  const m = Number(day.slice(5, 7))
  if (period === 'year') return `${y}-01-01`
  if (period === 'quarter') return `${y}-${String(Math.floor((m - 1) / 3) * 3 + 1).padStart(2, '0')}-01`
  return `${y}-${String(m).padStart(2, '0')}-01`
}

/** nextMonth is the first day of the month after the month of day (YYYY-MM-DD). */
export function nextMonth(day: string): string {
  let y = Number(day.slice(0, 4))
  let m = Number(day.slice(5, 7)) + 1
  if (m > 12) {
    m = 1
    y++
  }
  return `${y}-${String(m).padStart(2, '0')}-01`
}

/** barWidth is a CSS width for value against max (a hidden or zero figure is 0%). */
export function barWidth(value: string | number | null | undefined, max: number): string {
  const n = Number(value ?? 0)
  if (!max || !Number.isFinite(n) || n <= 0) return '0%'
  return `${Math.min(100, (n / max) * 100).toFixed(1)}%`
}
