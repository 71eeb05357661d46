// Display formatting. Money and decimals arrive as strings and are formatted
// as strings: no value passes through a binary float.
import type { FieldMeta, FieldOption } from '@/api/types'
import { label, locale } from '@/i18n'

const CURRENCY_SYMBOL: Record<string, string> = { CNY: '¥', RMB: '¥', USD: '$', EUR: '€', GBP: '£', JPY: 'JP¥', HKD: 'HK$', TWD: 'NT$' }

/** groupDigits inserts thousands separators into a decimal string. */
export function groupDigits(s: string): string {
  const m = /^(-?)(\d+)(\.\d+)?$/.exec(s.trim())
  if (!m) return s
  const int = m[2].replace(/\B(?=(\d{3})+(?!\d))/g, ',')
  return m[1] + int + (m[3] ?? '')
}

/** fixScale pads or trims (rounding half up) a decimal string to n places. */
export function fixScale(s: string, n: number): string {
  const m = /^(-?)(\d+)(?:\.(\d+))?$/.exec(s.trim())
  if (!m) return s
  const [, sign, int, frac = ''] = m
  if (frac.length <= n) return sign + int + (n ? '.' + frac.padEnd(n, '0') : '')
  // Round half up on the digit string.
  const digits = (int + frac.slice(0, n)).split('').map(Number)
  if (Number(frac[n]) >= 5) {
    let i = digits.length - 1
    while (i >= 0) {
      if (digits[i] === 9) {
        digits[i] = 0
        i--
      } else {
        digits[i]++
        break
      }
    }
    if (i < 0) digits.unshift(1)
  }
  const all = digits.join('')
  const intPart = all.slice(0, all.length - n) || '0'
  return sign + intPart + (n ? '.' + all.slice(all.length - n) : '')
}

export function formatMoney(v: unknown, currency = 'CNY'): string {
  if (v === null || v === undefined || v === '') return ''
  const s = fixScale(String(v), 2)
  const sym = CURRENCY_SYMBOL[currency.toUpperCase()]
  const body = groupDigits(s.replace(/^-/, ''))
  const sign = s.startsWith('-') ? '-' : ''
  return sym ? `${sign}${sym}${body}` : `${sign}${body} ${currency}`
}

export function formatDecimal(v: unknown, f?: FieldMeta): string {
  if (v === null || v === undefined || v === '') return ''
  let s = String(v)
  if (f?.scale !== undefined) s = fixScale(s, f.scale)
  else s = trimZeros(s)
  return groupDigits(s)
}

/** trimZeros drops trailing fraction zeros ("2.5000" → "2.5"). */
export function trimZeros(s: string): string {
  if (!s.includes('.')) return s
  return s.replace(/0+$/, '').replace(/\.$/, '')
}

/** formatDateTime shows an RFC 3339 time as "YYYY-MM-DD HH:mm" in its own offset (the server sends Asia/Shanghai). */
export function formatDateTime(v: unknown): string {
  if (typeof v !== 'string' || !v) return ''
  const m = /^(\d{4}-\d{2}-\d{2})T(\d{2}:\d{2})/.exec(v)
  if (m) return `${m[1]} ${m[2]}`
  return v
}

export function formatTime(v: unknown): string {
  if (typeof v !== 'string') return ''
  return v.length >= 5 ? v.slice(0, 5) : v
}

/** optionLabel is the label of a select value; `options` overrides the field's own (options_from). */
export function optionLabel(f: FieldMeta, value: unknown, options: FieldOption[] | undefined = f.options): string {
  const s = value === null || value === undefined ? '' : String(value)
  const o = options?.find((x) => x.value === s)
  return o ? label(o.label, o.value) : s
}

export function optionColor(f: FieldMeta, value: unknown, options: FieldOption[] | undefined = f.options): string | undefined {
  return options?.find((x) => x.value === value)?.color
}

export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KB`
  return `${(n / 1024 / 1024).toFixed(1)} MB`
}

export interface Address {
  province?: string
  city?: string
  district?: string
  detail?: string
  postcode?: string
}

export function formatAddress(v: unknown): string {
  if (!v || typeof v !== 'object') return ''
  const a = v as Address
  const sep = locale.value === 'zh-CN' ? '' : ', '
  const head = [a.province, a.city !== a.province ? a.city : '', a.district].filter(Boolean).join(sep)
  return [head, a.detail].filter(Boolean).join(locale.value === 'zh-CN' ? ' ' : ', ') + (a.postcode ? ` (${a.postcode})` : '')
}

/** formatRelative gives a short "at" text for history entries. */
export function formatInstant(v: string): string {
  const d = new Date(v)
  if (Number.isNaN(d.getTime())) return v
  const fmt = new Intl.DateTimeFormat(locale.value, {
    timeZone: 'Asia/Shanghai',
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
    hour12: false,
  })
  return fmt.format(d)
}
