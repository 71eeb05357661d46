// Schedules of scheduled rules in words, and their next firing times, for
// the rule editor. The syntax is the server's (internal/platform/jobs
// cron.go): five fields (minute hour day-of-month month day-of-week) with
// lists, ranges, steps and names, or @hourly / @daily / @weekly /
// @monthly / @yearly. The server is the judge of validity; this only
// explains what it will do.
import { locale } from '@/i18n'

const DESCRIPTORS: Record<string, string> = {
  '@yearly': '0 0 1 1 *',
  '@annually': '0 0 1 1 *',
  '@monthly': '0 0 1 * *',
  '@weekly': '0 0 * * 0',
  '@daily': '0 0 * * *',
  '@midnight': '0 0 * * *',
  '@hourly': '0 * * * *',
}

const MONTHS = ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec']
const DAYS = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat']

interface Parsed {
  sets: Set<number>[]
  star: boolean[]
  raw: string[]
}

const LIMITS: [number, number, string[] | null][] = [
  [0, 59, null],
  [0, 23, null],
  [1, 31, null],
  [1, 12, MONTHS],
  [0, 7, DAYS],
]

function parseField(s: string, i: number): Set<number> | null {
  const [lo, hi, names] = LIMITS[i]
  const num = (x: string): number | null => {
    const n = names ? names.indexOf(x.toLowerCase()) : -1
    if (n >= 0) return i === 3 ? n + 1 : n
    return /^\d+$/.test(x) ? Number(x) : null
  }
  const out = new Set<number>()
  for (const part of s.split(',')) {
    const [range, stepS] = part.split('/')
    const step = stepS === undefined ? 1 : Number(stepS)
    if (!Number.isInteger(step) || step < 1) return null
    let a: number | null
    let b: number | null
    if (range === '*') {
      a = lo
      b = hi
    } else if (range.includes('-')) {
      const [x, y] = range.split('-')
      a = num(x)
      b = num(y)
    } else {
      a = num(range)
      b = stepS === undefined ? a : hi
    }
    if (a === null || b === null || a < lo || b > hi || a > b) return null
    for (let v = a; v <= b; v += step) out.add(i === 4 && v === 7 ? 0 : v)
  }
  return out
}

export function parseCron(spec: string): Parsed | null {
  let s = spec.trim()
  if (s.startsWith('@')) s = DESCRIPTORS[s.toLowerCase()] ?? ''
  const raw = s.split(/\s+/).filter(Boolean)
  if (raw.length !== 5) return null
  const sets: Set<number>[] = []
  for (let i = 0; i < 5; i++) {
    const set = parseField(raw[i], i)
    if (!set || !set.size) return null
    sets.push(set)
  }
  return { sets, star: raw.map((r) => r.startsWith('*')), raw }
}

const pad = (n: number) => String(n).padStart(2, '0')

/** describeCron says a schedule in words, or null when it is not a valid spec. */
export function describeCron(spec: string): string | null {
  const p = parseCron(spec)
  if (!p) return null
  const zh = locale.value === 'zh-CN'
  const [mi, ho, dom, mo, dow] = p.sets
  const [rMi, rHo] = p.raw
  const list = (s: Set<number>, f: (n: number) => string) => [...s].sort((a, b) => a - b).map(f).join(zh ? '、' : ', ')
  // Weeks start on Monday here.
  const weekdays = (s: Set<number>) => [...s].sort((a, b) => ((a + 6) % 7) - ((b + 6) % 7))
  const dayName = (d: number) =>
    zh ? '周' + '日一二三四五六'[d] : ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'][d]
  // When in the day.
  let when: string
  const step = (r: string) => /^\*\/(\d+)$/.exec(r)?.[1]
  if (p.star[0] && p.star[1] && !step(rMi)) when = zh ? '每分钟' : 'every minute'
  else if (step(rMi) && p.star[1]) when = zh ? `每 ${step(rMi)} 分钟` : `every ${step(rMi)} minutes`
  else if (p.star[1] && !step(rHo) && mi.size === 1 && mi.has(0)) when = zh ? '每小时整点' : 'every hour on the hour'
  else if (p.star[1] && !step(rHo)) when = zh ? `每小时的第 ${list(mi, String)} 分` : `every hour at minute ${list(mi, String)}`
  else if (step(rHo) && mi.size === 1) {
    const m = [...mi][0]
    when = zh ? `每 ${step(rHo)} 小时（第 ${m} 分）` : `every ${step(rHo)} hours at minute ${m}`
  } else if (mi.size * ho.size <= 6) {
    const times: string[] = []
    for (const h of [...ho].sort((a, b) => a - b)) for (const m of [...mi].sort((a, b) => a - b)) times.push(`${pad(h)}:${pad(m)}`)
    when = times.join(zh ? '、' : ', ')
  } else when = zh ? `在 ${list(ho, String)} 点的第 ${list(mi, String)} 分` : `at minute ${list(mi, String)} of hours ${list(ho, String)}`
  // Which days.
  let days = ''
  const allDom = p.star[2]
  const allDow = p.star[4]
  const dows = weekdays(dow).map(dayName).join(zh ? '、' : ', ')
  if (!allDom && !allDow) days = zh ? `每月 ${list(dom, String)} 日或${dows}` : `on day ${list(dom, String)} of the month or on ${dows}`
  else if (!allDom) days = zh ? `每月 ${list(dom, String)} 日` : `on day ${list(dom, String)} of the month`
  else if (!allDow) {
    const wk = [...dow].sort((a, b) => a - b).join(',')
    if (wk === '1,2,3,4,5') days = zh ? '工作日（周一至周五）' : 'on weekdays (Monday to Friday)'
    else days = zh ? `每${dows}` : `on ${dows}`
  } else days = zh ? '每天' : 'every day'
  let months = ''
  if (!p.star[3]) months = zh ? `${list(mo, (m) => `${m} 月`)}，` : ` in ${list(mo, (m) => MONTHS[m - 1][0].toUpperCase() + MONTHS[m - 1].slice(1))}`
  const recurring = when.startsWith(zh ? '每' : 'every')
  // "Every 15 minutes" needs no "every day".
  const daily = allDom && allDow
  if (zh) return recurring && daily ? `${months}${when}` : `${months}${days}${recurring ? '，' : ' '}${when}`
  const head = recurring ? when[0].toUpperCase() + when.slice(1) : 'At ' + when
  return recurring && daily ? `${head}${months}` : `${head} ${days}${months}`
}

/**
 * nextRuns lists the next n firing times of a spec in China time (UTC+8,
 * no daylight saving) as "YYYY-MM-DD HH:mm". Day-of-month and day-of-week
 * both restricted means either matches (as in cron).
 */
export function nextRuns(spec: string, n = 3, from = new Date()): string[] {
  const p = parseCron(spec)
  if (!p) return []
  const [mi, ho, dom, mo, dow] = p.sets
  const out: string[] = []
  // Work in a Date whose UTC fields are China's wall clock.
  const d = new Date(from.getTime() + 8 * 3600_000)
  d.setUTCSeconds(0, 0)
  d.setUTCMinutes(d.getUTCMinutes() + 1)
  for (let guard = 0; guard < 530_000 && out.length < n; guard++) {
    const dayOk = () => {
      const a = dom.has(d.getUTCDate())
      const b = dow.has(d.getUTCDay())
      if (p.star[2]) return b
      if (p.star[4]) return a
      return a || b
    }
    if (!mo.has(d.getUTCMonth() + 1)) {
      d.setUTCMonth(d.getUTCMonth() + 1, 1)
      d.setUTCHours(0, 0)
      continue
    }
    if (!dayOk()) {
      d.setUTCDate(d.getUTCDate() + 1)
      d.setUTCHours(0, 0)
      continue
    }
    if (!ho.has(d.getUTCHours())) {
      d.setUTCHours(d.getUTCHours() + 1, 0)
      continue
    }
    if (!mi.has(d.getUTCMinutes())) {
      d.setUTCMinutes(d.getUTCMinutes() + 1)
      continue
    }
    out.push(`${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())} ${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}`)
    d.setUTCMinutes(d.getUTCMinutes() + 1)
  }
  return out
}

/** Ready-made schedules offered in the editor. */
export const CRON_PRESETS = [
  { spec: '0 9 * * *', key: 'daily9' },
  { spec: '0 9 * * 1-5', key: 'weekdays9' },
  { spec: '0 9 * * 1', key: 'monday9' },
  { spec: '0 8 1 * *', key: 'monthly1' },
  { spec: '0 * * * *', key: 'hourly' },
  { spec: '*/15 * * * *', key: 'every15' },
] as const
