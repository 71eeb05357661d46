// Browser tests of the report engine's screens (dashboards, report cards,
// the report builder) against a running `tenon serve --demo`.
//
//   BASE_URL=http://127.0.0.1:8080 ADMIN_PASSWORD=... node e2e/reports.mjs
//
// As sales.manager on a desktop:
//   - the navigation's 报表 group leads to the dashboards, the built-in
//     shared ones among them;
//   - the builder makes a funnel from scratch: source 商机, no dimension,
//     three count measures with conditions typed in the filter builder,
//     chart 漏斗图; the preview draws it; it is saved;
//   - "add to dashboard" puts it on a new personal dashboard, which opens;
//   - the region filter (华东) reloads the card (the data request carries
//     it, and says it applied);
//   - a click on the funnel's second step opens the opportunities list
//     whose total is that step's number;
//   - the card's menu exports XLSX (a workbook, HTTP 200 with the XLSX
//     content type) and PNG (a file starting with the PNG signature);
//   - the built-in dashboard 销售漏斗与预测 draws its four charts;
//   - the dashboard in English;
// and on a phone (390×844): the built-in dashboard in one column, with no
// horizontal overflow. The report and dashboard made here are deleted at
// the end. Screenshots go to SHOTS_DIR (reports-*.png); any unexpected
// browser console error fails the run.
import { readFileSync, statSync } from 'node:fs'
import { BASE_URL, DEMO_PASSWORD, apiSession, expect, fail, launch, must, newPage, noHorizontalOverflow, pickOption, requireConfig, resetLanguages, runScript, shot, signIn, steps, switchLanguage } from './lib.mjs'

requireConfig('e2e/reports.mjs')

const DESKTOP = { viewport: { width: 1366, height: 900 }, acceptDownloads: true }
const PHONE = { viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true, deviceScaleFactor: 2 }
const stamp = Date.now().toString(36)
const REPORT = `E2E 漏斗 ${stamp}`
const DASHBOARD = `E2E 看板 ${stamp}`
const MEASURES = [
  { label: '技术交流及以后', filter: 'stage_reached >= 2' },
  { label: '方案设计及以后', filter: 'stage_reached >= 3' },
  { label: '赢单', filter: 'status == "won"' },
]

const st = steps()
const consoleErrors = []
let browser = null
let admin = null
let manager = null
let page = null
let phone = null
let reportId = ''
let dashboardId = ''

const byTest = (p, name) => p.locator(`[data-test="${name}"]`)
/** inputOf is the text box of an ElInput (Element Plus puts data-test on the input itself). */
const inputOf = (scope, name) => scope.locator(`input[data-test="${name}"], textarea[data-test="${name}"]`).first()

/** pickExact opens the select inside scope, types text and clicks the option whose whole text is text. */
async function pickExact(p, scope, text) {
  await scope.locator('.el-select__wrapper').first().click()
  await scope.locator('input').first().fill(text)
  const item = p.locator('.el-select-dropdown__item:visible').filter({ hasText: new RegExp(`^\\s*${text}\\s*$`) }).first()
  await item.waitFor()
  await item.click()
}

/** canvasIn waits until scope shows an ECharts canvas with a size. */
async function canvasIn(scope) {
  const c = scope.locator('[data-test=report-echart] canvas').first()
  await c.waitFor()
  const box = await c.boundingBox()
  expect(box && box.width > 50 && box.height > 50, 'the chart has a drawn canvas')
  return c
}

/** cardDone waits until every report card on p has finished loading and shows a chart, a table or tiles. */
async function cardsDrawn(p, n) {
  const cards = byTest(p, 'report-card')
  await p.waitForFunction((want) => document.querySelectorAll('[data-test=report-card]').length === want, n)
  for (let i = 0; i < n; i++) {
    const card = cards.nth(i)
    await card.locator('[data-loading="0"]').waitFor()
    const drawn = card.locator('[data-test=report-echart] canvas, [data-test=report-table], [data-test=report-kpi], [data-test=report-pivot], [data-test=report-no-data]')
    await drawn.first().waitFor()
    expect((await card.locator('[data-test=report-card-error]').count()) === 0, `card ${i + 1} loaded without an error`)
  }
}

async function main() {
  browser = await launch()
  admin = await apiSession()
  await resetLanguages(admin)
  manager = await apiSession('sales.manager', DEMO_PASSWORD)

  await st.step('sales.manager finds the dashboards under 报表 in the navigation', async () => {
    page = await newPage(browser, consoleErrors, DESKTOP)
    await signIn(page, 'sales.manager', DEMO_PASSWORD)
    await byTest(page, 'nav-dashboards').click()
    await page.waitForURL(/\/dashboards$/)
    await byTest(page, 'dashboard-item').first().waitFor()
    const names = await byTest(page, 'dashboard-item').allInnerTexts()
    for (const n of ['销售漏斗与预测', '线索分析', '审批与报价效率']) expect(names.some((x) => x.includes(n)), `the built-in dashboard ${n} is listed`)
    await shot(page, 'reports-dashboards')
  })

  await st.step('the builder makes a funnel of three conditional counts and previews it', async () => {
    await byTest(page, 'dashboards-reports').click()
    await page.waitForURL(/\/reports$/)
    await byTest(page, 'reports-new').click()
    await page.waitForURL(/\/reports\/new$/)
    await inputOf(page, 'builder-name').fill(REPORT)
    await pickExact(page, byTest(page, 'builder-source'), '商机')
    const rows = byTest(page, 'measure-row')
    await rows.first().waitFor()
    for (let i = 0; i < MEASURES.length; i++) {
      if (i > 0) await byTest(page, 'builder-add-measure').click()
      const row = rows.nth(i)
      await row.waitFor()
      await inputOf(row, 'measure-label').fill(MEASURES[i].label)
      await row.locator('[data-test=measure-condition]').click()
      const dlg = page.locator('.el-dialog[data-test=builder-filter-dialog]')
      await dlg.waitFor()
      await inputOf(dlg, 'filter-expression').fill(MEASURES[i].filter)
      await dlg.locator('[data-test=filter-apply]').click()
      await dlg.waitFor({ state: 'hidden' })
      const cond = await row.locator('[data-test=measure-condition-text]').innerText()
      expect(cond.includes(MEASURES[i].filter), `measure ${i + 1} has its condition: ${cond}`)
    }
    expect((await byTest(page, 'dimension-row').count()) === 0, 'no dimension')
    const previewed = page.waitForResponse((r) => r.url().endsWith('/api/v1/reports/preview') && r.request().postDataJSON()?.report?.chart === 'funnel')
    await byTest(page, 'chart-funnel').click()
    const res = await previewed
    expect(res.status() === 200, `the preview answers 200 (${res.status()})`)
    const body = await res.json()
    expect(body.columns.length === 3 && body.rows.length === 1, `the preview has one row of three measures: ${JSON.stringify(body.columns)}`)
    const preview = byTest(page, 'builder-preview')
    await preview.locator('[data-chart=funnel]').waitFor()
    await canvasIn(preview)
    await shot(page, 'reports-builder', { full: true })
  })

  await st.step('the report is saved', async () => {
    await byTest(page, 'builder-save').click()
    await page.waitForURL(/\/reports\/\d+\/edit$/)
    reportId = page.url().match(/\/reports\/(\d+)\/edit/)[1]
    const rec = must(await manager.call('GET', `/records/reports/${reportId}`), 'read the saved report', 200)
    expect(rec.name === REPORT && rec.source === 'opportunities' && rec.chart === 'funnel', `the saved report: ${JSON.stringify(rec)}`)
    expect(rec.measures.length === 3 && rec.measures.every((m, i) => m.op === 'count' && m.filter === MEASURES[i].filter), `its measures: ${JSON.stringify(rec.measures)}`)
    expect((rec.dimensions ?? []).length === 0, 'no dimension saved')
  })

  await st.step('"add to dashboard" puts it on a new personal dashboard', async () => {
    await byTest(page, 'builder-add-to-dashboard').click()
    const dlg = page.locator('.el-dialog[data-test=add-to-dashboard]')
    await dlg.waitFor()
    await dlg.locator('[data-test=add-to-new]').click()
    await inputOf(dlg, 'add-to-name').fill(DASHBOARD)
    await dlg.locator('[data-test=add-to-submit]').click()
    await page.waitForURL(/\/dashboards\/\d+(\?|$)/)
    dashboardId = page.url().match(/\/dashboards\/(\d+)(\?|$)/)[1]
    expect((await byTest(page, 'dashboard-title').innerText()).trim() === DASHBOARD, 'the new dashboard opens')
    const d = must(await manager.call('GET', `/records/dashboards/${dashboardId}`), 'read the dashboard', 200)
    expect(!d.shared && d.layout.length === 1 && d.layout[0].report === reportId, `its layout holds the report: ${JSON.stringify(d.layout)}`)
    await cardsDrawn(page, 1)
  })

  let stepCount = 0
  await st.step('the region filter 华东 reloads the card', async () => {
    const reloaded = page.waitForResponse((r) => r.url().includes(`/api/v1/reports/${reportId}/data`) && new URL(r.url()).searchParams.get('region') === '华东')
    await pickOption(page, byTest(page, 'dash-filter-region'), '华东')
    const res = await reloaded
    expect(res.status() === 200, `the card's data answers 200 (${res.status()})`)
    const body = await res.json()
    expect((body.applied ?? []).includes('region'), `the region applied to the report: ${JSON.stringify(body.applied)}`)
    stepCount = Number(body.rows[0][1])
    expect(stepCount > 0, `the second step counts deals in 华东: ${body.rows[0][1]}`)
    await cardsDrawn(page, 1)
    await canvasIn(byTest(page, 'report-card'))
    await page.waitForTimeout(600) // the funnel's animation
    await shot(page, 'reports-dashboard')
  })

  await st.step('a click on the second funnel step lists exactly its deals', async () => {
    const canvas = await canvasIn(byTest(page, 'report-card'))
    const box = await canvas.boundingBox()
    // The funnel: 2%..52% of the width, 8px margins, three steps 2px apart.
    const stepH = (box.height - 16 - 4) / 3
    const drilled = page.waitForResponse((r) => r.url().includes(`/api/v1/reports/${reportId}/drill`))
    await page.mouse.click(box.x + box.width * 0.27, box.y + 8 + stepH + 2 + stepH / 2)
    const res = await drilled
    expect(res.status() === 200, `drill answers 200 (${res.status()})`)
    const req = res.request().postDataJSON()
    expect(req.measure === 1 && req.keys.length === 0 && req.params.region === '华东', `the drill asks for measure 1 under 华东: ${JSON.stringify(req)}`)
    await page.waitForURL(/\/e\/opportunities\?filter=/)
    // The list shows "共 0 条" until its first page is in: wait for the step's number.
    const total = page.locator('.list-foot .tn-muted')
    const counted = (want) => Number((document.querySelector('.list-foot .tn-muted')?.textContent ?? '').replace(/[^\d]/g, '')) === want
    await page.waitForFunction(counted, stepCount, { timeout: 15000 }).catch(() => {})
    const text = await total.innerText()
    const n = Number(text.replace(/[^\d]/g, ''))
    expect(n === stepCount, `the list counts ${n} (${text}), the funnel step ${stepCount}`)
    expect((await page.locator('[data-test=list-filter-text]').innerText()).includes(MEASURES[1].filter), 'the list shows the filter with the step\'s condition')
    await shot(page, 'reports-drill-list')
    await page.goBack()
    await page.waitForURL(/\/dashboards\/\d+\?/)
    await cardsDrawn(page, 1)
    expect((await byTest(page, 'dash-filter-region').innerText()).includes('华东'), 'back on the dashboard, the region filter is still 华东')
  })

  await st.step('the card exports to XLSX', async () => {
    await byTest(page, 'report-card-menu').click()
    const dl = page.waitForEvent('download')
    await page.locator('[data-test=report-card-xlsx]:visible').click()
    const d = await dl
    expect(d.url().includes(`/api/v1/reports/${reportId}/data`) && d.url().includes('format=xlsx'), `the download is the report's workbook: ${d.url()}`)
    const file = await d.path()
    const bytes = readFileSync(file)
    expect(statSync(file).size > 1000 && bytes.subarray(0, 2).toString() === 'PK', `a workbook (zip) of ${statSync(file).size} bytes`)
    const r = await page.request.get(d.url())
    expect(r.status() === 200, `the XLSX address answers 200 (${r.status()})`)
    expect((r.headers()['content-type'] ?? '').includes('spreadsheetml'), `XLSX content type: ${r.headers()['content-type']}`)
    expect(/attachment/.test(r.headers()['content-disposition'] ?? ''), 'as an attachment')
  })

  await st.step('the card exports to PNG', async () => {
    await byTest(page, 'report-card-menu').click()
    const dl = page.waitForEvent('download')
    await page.locator('[data-test=report-card-png]:visible').click()
    const d = await dl
    expect(d.suggestedFilename() === `${REPORT}.png`, `the PNG is named after the report: ${d.suggestedFilename()}`)
    const bytes = readFileSync(await d.path())
    const sig = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]
    expect(bytes.length > 2000 && sig.every((b, i) => bytes[i] === b), `a PNG file (${bytes.length} bytes, starts ${bytes.subarray(0, 8).toString('hex')})`)
  })

  await st.step('the layout is edited: a report added, a card dragged and resized, saved', async () => {
    await byTest(page, 'dash-edit').click()
    await byTest(page, 'dash-add-report').click()
    const dlg = page.locator('.el-dialog[data-test=report-picker]')
    await dlg.waitFor()
    await pickOption(page, dlg.locator('[data-test=report-picker-select]'), '线索来源', true)
    await dlg.locator('[data-test=report-picker-add]').click()
    await dlg.waitFor({ state: 'hidden' })
    await page.waitForFunction(() => document.querySelectorAll('[data-test=report-card]').length === 2)
    // Drag the new card (below the funnel) by its title to the right half of the first row.
    const added = byTest(page, 'report-card').nth(1)
    const head = added.locator('.card-head')
    const hb = await head.boundingBox()
    const first = await byTest(page, 'report-card').first().boundingBox()
    await page.mouse.move(hb.x + 60, hb.y + hb.height / 2)
    await page.mouse.down()
    for (let i = 1; i <= 10; i++) await page.mouse.move(hb.x + 60 + ((first.width + 20) * i) / 10, hb.y + hb.height / 2 - ((hb.y - first.y) * i) / 10)
    await page.mouse.up()
    // Resize the funnel one row taller by its corner.
    const handle = page.locator('.vgl-item').first().locator('.vgl-item__resizer')
    const rb = await handle.boundingBox()
    await page.mouse.move(rb.x + rb.width / 2, rb.y + rb.height / 2)
    await page.mouse.down()
    for (let i = 1; i <= 6; i++) await page.mouse.move(rb.x + rb.width / 2, rb.y + rb.height / 2 + i * 12)
    await page.mouse.up()
    await shot(page, 'reports-dashboard-edit')
    const saved = page.waitForResponse((r) => r.url().endsWith(`/api/v1/records/dashboards/${dashboardId}`) && r.request().method() === 'PATCH')
    await byTest(page, 'dash-save-layout').click()
    expect((await saved).status() === 200, 'the layout is saved')
    const d = must(await manager.call('GET', `/records/dashboards/${dashboardId}`), 'read the dashboard', 200)
    const [a, b] = d.layout
    expect(d.layout.length === 2 && a.report === reportId, `two cards, the funnel first: ${JSON.stringify(d.layout)}`)
    expect(b.x >= 6 && b.y === 0, `the added card was dragged beside the funnel: ${JSON.stringify(b)}`)
    expect(a.h === 6, `the funnel was resized one row taller: ${JSON.stringify(a)}`)
    await cardsDrawn(page, 2)
  })

  await st.step('the built-in dashboard 销售漏斗与预测 draws its charts', async () => {
    await page.goto(`${BASE_URL}/dashboards`)
    await byTest(page, 'dashboard-item').filter({ hasText: '销售漏斗与预测' }).locator('[data-test=dashboard-link]').click()
    await page.waitForURL(/\/dashboards\/\d+(\?|$)/)
    await cardsDrawn(page, 4)
    expect((await page.locator('[data-test=report-card] [data-test=report-echart] canvas').count()) === 4, 'four charts with a canvas')
    expect((await byTest(page, 'dash-edit').count()) === 0, 'a shared dashboard cannot be edited by a manager')
    await page.waitForTimeout(600)
    await shot(page, 'reports-builtin')
  })

  await st.step('the dashboard in English', async () => {
    await switchLanguage(page, 'en')
    await page.locator('[data-test=dash-filter-date]', { hasText: 'This year' }).waitFor()
    await cardsDrawn(page, 4)
    const title = await byTest(page, 'report-card-title').first().innerText()
    expect(/[A-Za-z]/.test(title), `the cards are named in English: ${title}`)
    await page.goto(`${BASE_URL}/reports/${reportId}/edit`)
    await canvasIn(byTest(page, 'builder-preview'))
    await page.waitForTimeout(600)
    await shot(page, 'reports-builder-en', { full: true })
    await page.goto(`${BASE_URL}/dashboards`)
    await byTest(page, 'dashboard-item').first().waitFor()
    await page.goto(`${BASE_URL}/dashboards/${dashboardId}`)
    await cardsDrawn(page, 2)
    await page.waitForTimeout(600)
    await shot(page, 'reports-dashboard-en')
    await switchLanguage(page, 'zh-CN')
  })

  await st.step('on a phone the built-in dashboard is one column without overflow', async () => {
    phone = await newPage(browser, consoleErrors, PHONE)
    await signIn(phone, 'sales.manager', DEMO_PASSWORD)
    const d = must(await manager.call('GET', `/records/dashboards?filter=${encodeURIComponent('key == "sales"')}&fields=id`), 'find the sales dashboard', 200).items[0]
    expect(d, 'the built-in sales dashboard exists')
    await phone.goto(`${BASE_URL}/dashboards/${d.id}`)
    await cardsDrawn(phone, 4)
    const xs = await phone.locator('[data-test=report-card]').evaluateAll((els) => els.map((e) => Math.round(e.getBoundingClientRect().left)))
    expect(new Set(xs).size === 1, `the cards are in one column (left edges ${xs.join(', ')})`)
    await noHorizontalOverflow(phone, 'a dashboard on a phone')
    await phone.waitForTimeout(600)
    await shot(phone, 'reports-phone')
    await shot(phone, 'reports-phone-full', { full: true })
    await phone.goto(`${BASE_URL}/reports/${reportId}/edit`)
    await canvasIn(byTest(phone, 'builder-preview'))
    await noHorizontalOverflow(phone, 'the builder on a phone')
    await shot(phone, 'reports-builder-phone', { full: true })
  })

  await st.step('the report and dashboard made here are deleted', async () => {
    for (const [e, id] of [['dashboards', dashboardId], ['reports', reportId]]) {
      if (!id) continue
      const r = must(await manager.call('GET', `/records/${e}/${id}?fields=id,version`), `read ${e} ${id}`, 200)
      must(await manager.call('DELETE', `/records/${e}/${id}`, undefined, { 'If-Match': `"${r.version}"` }), `delete ${e} ${id}`, [200, 204])
    }
  })

  await st.step('no unexpected browser console errors', async () => {
    if (consoleErrors.length) fail(`console errors:\n  ${consoleErrors.join('\n  ')}`)
  })
}

await runScript('reports', st, main, {
  failureShots: () => ({ 'reports-failure': page, 'reports-failure-phone': phone }),
  cleanup: async () => {
    await admin?.dispose()
    await manager?.dispose()
  },
  browser: () => browser,
  consoleErrors,
})
