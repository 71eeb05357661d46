// Where the list screen's first load spends the main thread: opens
// /e/<ENTITY> once in a fresh context with Chromium tracing on and sums the
// renderer main thread's top-level tasks by kind up to the moment the rows
// are on screen. For finding what to make faster; nothing is asserted.
//
//   BASE_URL=... PASSWORD=... ENTITY=accounts node e2e/trace-list.mjs
import { chromium, request } from 'playwright-core'
import { readFileSync } from 'node:fs'

const BASE_URL = (process.env.BASE_URL || 'http://127.0.0.1:8080').replace(/\/$/, '')
const PASSWORD = process.env.PASSWORD
const ENTITY = process.env.ENTITY
const api = await request.newContext({ baseURL: BASE_URL })
await api.post('/api/v1/auth/login', { data: { login: process.env.LOGIN || 'admin', password: PASSWORD } })
const storageState = await api.storageState()
await api.dispose()
const browser = await chromium.launch({ executablePath: process.env.CHROMIUM || '/usr/bin/chromium', headless: true, args: ['--no-sandbox', '--disable-gpu'] })
const ctx = await browser.newContext({ storageState, viewport: { width: 1366, height: 860 } })
const page = await ctx.newPage()
const file = '/tmp/trace-list.json'
await browser.startTracing(page, { path: file, categories: ['devtools.timeline', 'disabled-by-default-devtools.timeline', 'v8.execute', 'blink.user_timing'] })
await page.goto(`${BASE_URL}/e/${ENTITY}`)
await page.waitForSelector('[data-loads="1"], [data-loads="2"]', { timeout: 30000 })
await page.waitForTimeout(300)
await browser.stopTracing()
await browser.close()

const events = JSON.parse(readFileSync(file, 'utf8')).traceEvents
// The renderer's main thread: the one with the most FunctionCall time.
const byTid = new Map()
for (const e of events) if (e.ph === 'X' && e.name === 'RunTask') byTid.set(e.tid, (byTid.get(e.tid) || 0) + (e.dur || 0))
const nav = events.find((e) => e.name === 'navigationStart' || e.name === 'NavigationBodyLoader::StartLoadingBody')
const main = events.filter((e) => e.name === 'CrRendererMain' || (e.name === 'thread_name' && e.args?.name === 'CrRendererMain')).map((e) => e.tid)
const tids = new Set(main)
const t0 = Math.min(...events.filter((e) => tids.has(e.tid) && e.ts > 0).map((e) => e.ts))
const sums = new Map()
const tasks = []
for (const e of events) {
  if (!tids.has(e.tid) || e.ph !== 'X' || !e.dur) continue
  if (['EvaluateScript', 'v8.compile', 'v8.compileModule', 'FunctionCall', 'ParseHTML', 'ParseAuthorStyleSheet', 'UpdateLayoutTree', 'Layout', 'Paint', 'PrePaint', 'Layerize', 'TimerFire', 'EventDispatch', 'v8.evaluateModule', 'MajorGC', 'MinorGC', 'V8.GC_SCAVENGER', 'ScheduleStyleRecalculation', 'HitTest', 'XHRReadyStateChange', 'ResourceReceivedData'].includes(e.name)) {
    sums.set(e.name, (sums.get(e.name) || 0) + e.dur)
  }
  if (e.name === 'RunTask' && e.dur > 20000) tasks.push([(e.ts - t0) / 1000, e.dur / 1000])
}
console.log('main-thread time by kind (ms, nested kinds overlap):')
for (const [k, v] of [...sums].sort((a, b) => b[1] - a[1])) console.log(`  ${k.padEnd(24)} ${(v / 1000).toFixed(1)}`)
console.log('long tasks (start ms from first event, duration ms):', tasks.map(([s, d]) => `${s.toFixed(0)}+${d.toFixed(0)}`).join(' '))
