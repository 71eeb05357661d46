// Benchmark: how long until the list of an entity is on screen and usable.
//
//   BASE_URL=http://127.0.0.1:8080 PASSWORD=... ENTITY=accounts node e2e/bench-list.mjs
//
// Signs in once through the API, then RUNS times (default 5) opens
// /e/<ENTITY> in a fresh headless Chromium context (cold HTTP cache, the
// session cookie kept) at 1366×860 and measures, from navigation start:
//   rows         the first page of records (up to 50) is in the table: a
//                MutationObserver in the page notes the moment the list
//                screen reports its first completed load (data-loads) with
//                its rows rendered;
//   interactive  time to interactive: the rows are there and the main thread
//                has finished its last long task (a task over 50 ms, from the
//                Long Tasks API) begun before the first input, i.e. from then
//                on the page answers input at once;
//   response     how long the page took to show the bulk-action bar for a
//                click on the first row's checkbox, from the click event's
//                arrival (the app's own answer to input);
//   click        when that click's bulk bar was visible to the harness. The
//                click is sent as soon as the harness sees the rows, so this
//                adds the harness's own latency (polling, Playwright's
//                actionability checks: scroll, two stable animation frames,
//                hit test; about 150-250 ms here) to the page's time; it was
//                the "interactive" figure of sessions 2-4;
// and, for reading the result, the list request's own time (from resource
// timing) and the JavaScript transferred. Prints each run and the medians.
// Nothing is asserted: it reports.
//
// Environment: BASE_URL, LOGIN (default admin), PASSWORD (or ADMIN_PASSWORD),
// ENTITY (required), RUNS (5), QUERY (extra URL query for the list, e.g.
// "view=all"), CHROMIUM (/usr/bin/chromium), WARM=1 keeps one context so
// that runs after the first use the browser cache.
import { chromium, request } from 'playwright-core'

const BASE_URL = (process.env.BASE_URL || 'http://127.0.0.1:8080').replace(/\/$/, '')
const LOGIN = process.env.LOGIN || 'admin'
const PASSWORD = process.env.PASSWORD || process.env.ADMIN_PASSWORD
const ENTITY = process.env.ENTITY
const RUNS = Math.max(1, Number(process.env.RUNS || 5))
const QUERY = process.env.QUERY || ''
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium'
const WARM = process.env.WARM === '1'

if (!PASSWORD || !ENTITY) {
  console.error('bench-list: set ENTITY and PASSWORD (and BASE_URL, LOGIN)')
  process.exit(2)
}

// ---- sign in once, read the cookie and how many rows to expect
const api = await request.newContext({ baseURL: BASE_URL })
const res = await api.post('/api/v1/auth/login', { data: { login: LOGIN, password: PASSWORD } })
if (res.status() !== 200) {
  console.error(`bench-list: login as ${LOGIN}: HTTP ${res.status()} ${await res.text()}`)
  process.exit(1)
}
const storageState = await api.storageState()
const head = await api.get(`/api/v1/records/${encodeURIComponent(ENTITY)}?per_page=50&fields=id`)
if (head.status() !== 200) {
  console.error(`bench-list: list ${ENTITY}: HTTP ${head.status()} ${await head.text()}`)
  process.exit(1)
}
const first = await head.json()
await api.dispose()
console.log(`bench-list: ${BASE_URL} /e/${ENTITY}${QUERY ? '?' + QUERY : ''} as ${LOGIN}; ${first.total ?? '?'}${first.total_exact ? '' : '+'} records; ${RUNS} runs${WARM ? ' (warm cache)' : ' (cold cache)'}`)

const browser = await chromium.launch({
  executablePath: CHROMIUM,
  headless: true,
  args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
})

// Runs in the page before its own scripts: notes when the first page of rows is there.
function observer() {
  const check = () => {
    if (window.__rowsAt) return
    const card = document.querySelector('[data-test=list-card]')
    if (!card || Number(card.dataset.loads) < 1) return
    window.__rowsAt = performance.now()
    window.__rowCount = card.querySelectorAll('[data-test=list-table] tbody tr, [data-test=list-cards] [data-test=list-row]').length
  }
  new MutationObserver(check).observe(document, { childList: true, subtree: true, attributes: true, attributeFilter: ['data-loads'] })
  window.__long = []
  new PerformanceObserver((l) => window.__long.push(...l.getEntries().map((e) => [e.startTime, e.duration]))).observe({ type: 'longtask', buffered: true })
  addEventListener('pointerdown', (e) => { window.__inputAt ??= e.timeStamp }, true)
  const bulk = () => {
    const b = document.querySelector('[data-test=list-bulk]')
    if (window.__inputAt !== undefined && !window.__bulkAt && b && b.offsetParent !== null) window.__bulkAt = performance.now()
  }
  new MutationObserver(bulk).observe(document, { childList: true, subtree: true, attributes: true })
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b)
  const m = Math.floor(s.length / 2)
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2
}

const results = []
let shared = null
try {
  for (let i = 1; i <= RUNS; i++) {
    const ctx = WARM ? (shared ??= await browser.newContext({ storageState, viewport: { width: 1366, height: 860 }, locale: 'zh-CN' })) : await browser.newContext({ storageState, viewport: { width: 1366, height: 860 }, locale: 'zh-CN' })
    const page = await ctx.newPage()
    await page.addInitScript(observer)
    let jsBytes = 0
    page.on('response', async (r) => {
      if (r.url().endsWith('.js')) jsBytes += (await r.request().sizes().catch(() => ({ responseBodySize: 0 }))).responseBodySize
    })
    await page.goto(`${BASE_URL}/e/${encodeURIComponent(ENTITY)}${QUERY ? '?' + QUERY : ''}`, { waitUntil: 'commit' })
    await page.waitForFunction(() => !!window.__rowsAt, undefined, { timeout: 60000, polling: 20 })
    let interactive = null
    const count = await page.evaluate(() => window.__rowCount)
    if (count > 0) {
      await page.locator('[data-test=list-table] tbody tr').first().locator('.el-checkbox').click()
      await page.locator('[data-test=list-bulk]').waitFor({ state: 'visible' })
      interactive = await page.evaluate(() => performance.now())
      await page.waitForTimeout(300) // long-task entries arrive after their task
    }
    const m = await page.evaluate((entity) => {
      const list = performance
        .getEntriesByType('resource')
        .filter((e) => e.name.includes(`/api/v1/records/${entity}?`))
        .find((e) => e.responseEnd > 0)
      const nav = performance.getEntriesByType('navigation')[0]
      return {
        rows: window.__rowsAt,
        count: window.__rowCount,
        listStart: list ? list.startTime : null,
        listMs: list ? list.responseEnd - list.startTime : null,
        domContentLoaded: nav ? nav.domContentLoadedEventEnd : null,
        tti: Math.max(window.__rowsAt, ...window.__long.filter(([st]) => window.__inputAt === undefined || st < window.__inputAt).map(([st, d]) => st + d)),
        response: window.__bulkAt && window.__inputAt !== undefined ? window.__bulkAt - window.__inputAt : null,
      }
    }, ENTITY)
    const r = { run: i, count: m.count, rows: Math.round(m.rows), tti: Math.round(m.tti), response: m.response === null ? null : Math.round(m.response), click: interactive === null ? null : Math.round(interactive), listStart: Math.round(m.listStart ?? 0), listMs: Math.round(m.listMs ?? 0), dcl: Math.round(m.domContentLoaded ?? 0), jsKB: Math.round(jsBytes / 1024) }
    results.push(r)
    console.log(
      `run ${i}: ${r.count} rows at ${r.rows} ms, interactive ${r.tti} ms, response ${r.response ?? '-'} ms, click ${r.click ?? '-'} ms  (DOMContentLoaded ${r.dcl} ms; list request sent at ${r.listStart} ms, took ${r.listMs} ms; JS ${r.jsKB} KB transferred)`,
    )
    await page.close()
    if (!WARM) await ctx.close()
  }
} finally {
  await shared?.close()
  await browser.close()
}

const rows = median(results.map((r) => r.rows))
const tti = median(results.map((r) => r.tti))
const response = results.every((r) => r.response !== null) ? median(results.map((r) => r.response)) : null
const click = results.every((r) => r.click !== null) ? median(results.map((r) => r.click)) : null
const listMs = median(results.map((r) => r.listMs))
console.log(`median of ${results.length}: rows ${rows} ms, interactive ${tti} ms, response ${response ?? '-'} ms, click ${click ?? '-'} ms, list request ${listMs} ms`)
