// How a report's cells read: dimension values through the result's labels,
// measures by their format (money with thousands separators, percent as
// 8.3%, counts as integers, durations with their unit), and the
// short numbers of chart axes.
import type { Cell, Result, ResultColumn } from '@/api/reports'
import { fixScale, formatDateTime, groupDigits, trimZeros } from '@/utils/format'
import { t } from '@/i18n'

/** num reads a measure's decimal string (null when absent or not a number). */
export function num(v: Cell | undefined): number | null {
  if (v === null || v === undefined || v === '') return null
  const n = typeof v === 'number' ? v : Number(v)
  return Number.isFinite(n) ? n : null
}

export const isPercent = (c: ResultColumn): boolean => c.format === 'percent'
const isCount = (c: ResultColumn): boolean => c.op === 'count' || c.op === 'count_distinct'
/** isDateMeasure: min/max of a date or time field (the gantt's start and end). */
export const isDateMeasure = (v: Cell): boolean => typeof v === 'string' && /^\d{4}-\d{2}-\d{2}/.test(v)

/** percentText shows a fraction (0.0833) as "8.3%". */
export function percentText(n: number): string {
  return `${trimZeros((n * 100).toFixed(1))}%`
}

/** measureText formats a measure's value for a table cell or a tile. */
export function measureText(c: ResultColumn, v: Cell | undefined): string {
  if (v === null || v === undefined || v === '') return '—'
  if (isDateMeasure(v)) return formatDateTime(v)
  const s = String(v)
  const n = num(v)
  if (n === null) return s
  switch (c.format) {
    case 'money':
      return '¥' + groupDigits(fixScale(s, 2))
    case 'percent':
      return percentText(n)
    case 'duration': {
      const unit = c.unit ? t(`reports.units.${c.unit}`) : ''
      return `${groupDigits(trimZeros(fixScale(s, 1)))}${unit ? ' ' + unit : ''}`
    }
  }
  if (isCount(c)) return groupDigits(fixScale(s, 0))
  return groupDigits(trimZeros(fixScale(s, 2)))
}

/** shortNumber is an axis label: 12,500,000 → 1250万 (zh) / 12.5M (en). */
export function shortNumber(n: number, zh: boolean, c?: ResultColumn): string {
  if (c && isPercent(c)) return percentText(n)
  const a = Math.abs(n)
  const fmt = (x: number) => trimZeros(x.toFixed(1))
  if (zh) {
    if (a >= 1e8) return fmt(n / 1e8) + '亿'
    if (a >= 1e4) return fmt(n / 1e4) + '万'
  } else {
    if (a >= 1e9) return fmt(n / 1e9) + 'B'
    if (a >= 1e6) return fmt(n / 1e6) + 'M'
    if (a >= 1e3) return fmt(n / 1e3) + 'K'
  }
  return groupDigits(trimZeros(n.toFixed(2)))
}

/** dimText is the display of a dimension value: its label, or the value itself. */
export function dimText(res: Result, c: ResultColumn, v: Cell | undefined): string {
  if (v === null || v === undefined || v === '') return t('reports.chart.none')
  if (typeof v === 'boolean') return v ? t('common.yes') : t('common.no')
  const s = String(v)
  const l = res.labels?.[c.key]?.[s]
  if (l) return l
  if (c.type === 'boolean') return s === 'true' ? t('common.yes') : s === 'false' ? t('common.no') : s
  if (!c.bucket && c.type === 'datetime') return formatDateTime(s)
  return s
}

export interface Shape {
  dims: { col: ResultColumn; index: number }[]
  /** Visible measures with their index among the measures (the m-index) and in the row. */
  measures: { col: ResultColumn; m: number; index: number }[]
}

/** shape splits a result's columns into dimensions and visible measures. */
export function shape(res: Result): Shape {
  const dims: Shape['dims'] = []
  const measures: Shape['measures'] = []
  res.columns.forEach((col, index) => {
    if (col.role === 'dimension') dims.push({ col, index })
    else if (!col.hidden) measures.push({ col, m: Number(col.key.slice(1)), index })
  })
  return { dims, measures }
}

/** isEmpty: the result has no row worth a chart (no rows, or only empty measures). */
export function isEmpty(res: Result): boolean {
  if (!res.rows.length) return true
  const { dims, measures } = shape(res)
  if (dims.length === 0) return res.rows.every((r) => measures.every((m) => r[m.index] === null))
  return false
}
