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
//   interactive  a click on the first row's checkbox has shown the bulk-action
//                bar (the click is sent as soon as the rows are there, so this
//                includes the time the page needs before it responds);
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
      }
    }, ENTITY)
    const r = { run: i, count: m.count, rows: Math.round(m.rows), interactive: interactive === null ? null : Math.round(interactive), listStart: Math.round(m.listStart ?? 0), listMs: Math.round(m.listMs ?? 0), dcl: Math.round(m.domContentLoaded ?? 0), jsKB: Math.round(jsBytes / 1024) }
    results.push(r)
    console.log(
      `run ${i}: ${r.count} rows at ${r.rows} ms, interactive ${r.interactive ?? '-'} ms  (DOMContentLoaded ${r.dcl} ms; list request sent at ${r.listStart} ms, took ${r.listMs} ms; JS ${r.jsKB} KB transferred)`,
    )
    await page.close()
    if (!WARM) await ctx.close()
  }
} finally {
  await shared?.close()
  await browser.close()
}

const rows = median(results.map((r) => r.rows))
const inter = results.every((r) => r.interactive !== null) ? median(results.map((r) => r.interactive)) : null
const listMs = median(results.map((r) => r.listMs))
console.log(`median of ${results.length}: rows ${rows} ms, interactive ${inter ?? '-'} ms, list request ${listMs} ms`)
