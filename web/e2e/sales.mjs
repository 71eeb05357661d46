// Browser tests of the sales screens (pipeline board, forecast) against a
// running `tenon serve --demo`.
//
//   BASE_URL=http://127.0.0.1:8080 ADMIN_PASSWORD=... node e2e/sales.mjs
//
// Through the API (as admin): this month's targets for rep.east and the
// sales department, unless an earlier run made them. In the browser:
//   - rep.east on a phone (390×844): the board shows one column at a time
//     with the stage tabs; the first deal of 需求确认 is moved to 技术交流
//     with its "move to…" menu; it shows in the 技术交流 tab and the
//     server has it there; no horizontal overflow;
//   - sales.manager on a desktop: the forecast has its periods, the funnel
//     and the targets with their attainment (rep.east's and the team's);
//     the demo's sales cycle has a row for each product line and region,
//     each a realistic average (20 to 200 days);
//   - rep.south (华南) on a desktop: every card on the board is a 华南 deal
//     (checked against the admin's view of each), while 华东 deals exist.
// Screenshots go to SHOTS_DIR (sales-*.png); any unexpected browser console
// error fails the run.
import { BASE_URL, DEMO_PASSWORD, apiSession, expect, runScript, launch, must, newPage, noHorizontalOverflow, requireConfig, resetLanguages, shot, signIn, steps, switchLanguage } from './lib.mjs'

requireConfig('e2e/sales.mjs')

const DESKTOP = { viewport: { width: 1366, height: 860 } }
const PHONE = { viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true, deviceScaleFactor: 2 }
const q = encodeURIComponent

const st = steps()
const consoleErrors = []
let browser = null
let api = null
let page = null

/** thisMonth is the first day of the current month in Asia/Shanghai. */
function thisMonth() {
  return new Date(Date.now() + 8 * 3600 * 1000).toISOString().slice(0, 8) + '01'
}

async function userId(login) {
  const r = must(await api.call('GET', `/records/users?filter=${q(`login == ${JSON.stringify(login)}`)}&fields=id,name`), `find user ${login}`, 200)
  expect(r.items.length === 1, `user ${login} exists (serve --demo)`)
  return r.items[0]
}

async function ensureTarget(body, filter) {
  const have = must(await api.call('GET', `/records/sales_targets?filter=${q(filter)}&per_page=1`), 'find a target', 200)
  if (!have.items.length) must(await api.call('POST', '/records/sales_targets', body), 'create a target')
}

async function main() {
  browser = await launch()
  api = await apiSession()
  await resetLanguages(api)
  const east = await userId('rep.east')
  const start = thisMonth()

  await st.step('this month has targets for rep.east and the sales department', async () => {
    const dept = must(await api.call('GET', `/records/departments?filter=${q('name == "销售部"')}&fields=id`), 'find 销售部', 200).items[0]
    expect(dept, 'the demo has 销售部')
    const base = `period == "month" && period_start == ${JSON.stringify(start)}`
    await ensureTarget({ salesperson: east.id, period: 'month', period_start: start, amount: '3000000' }, `${base} && salesperson == ${east.id}`)
    await ensureTarget({ department: dept.id, period: 'month', period_start: start, amount: '12000000' }, `${base} && department == ${dept.id}`)
  })

  await st.step('rep.east on a phone moves a deal to the next stage with the move-to menu', async () => {
    page = await newPage(browser, consoleErrors, PHONE)
    await signIn(page, 'rep.east', DEMO_PASSWORD)
    await page.goto(`${BASE_URL}/sales/board`)
    await page.locator('[data-test=sales-stage-tabs]').waitFor()
    const from = page.locator('[data-test=sales-column-requirement]')
    const card = from.locator('[data-test=sales-card]').first()
    await card.waitFor()
    expect((await page.locator('section[data-test^=sales-column-]').count()) === 1, 'a phone shows one column')
    await noHorizontalOverflow(page, 'the board on a phone')
    await shot(page, 'sales-board-phone')
    const id = await card.getAttribute('data-id')
    const name = (await card.locator('[data-test=sales-card-name]').innerText()).trim()
    await card.locator('[data-test=sales-card-move]').click()
    await page.locator('[data-test=sales-move-menu] [data-test=sales-move-tech_exchange]').click()
    await page.locator('.el-message--success', { hasText: name }).waitFor()
    expect((await from.locator(`[data-test=sales-card][data-id="${id}"]`).count()) === 0, 'the deal left 需求确认')
    await page.locator('[data-test=sales-tab-tech_exchange]').click()
    await page.locator(`[data-test=sales-column-tech_exchange] [data-test=sales-card][data-id="${id}"]`).waitFor()
    const rec = must(await api.call('GET', `/records/opportunities/${id}?fields=id,stage`), 'read the moved deal', 200)
    expect(rec.stage === 'tech_exchange', `the server has the deal in tech_exchange, not ${rec.stage}`)
    await shot(page, 'sales-board-moved-phone')
    await page.context().close()
    page = null
  })

  await st.step('sales.manager sees the forecast, the funnel and the targets with attainment', async () => {
    page = await newPage(browser, consoleErrors, DESKTOP)
    await signIn(page, 'sales.manager', DEMO_PASSWORD)
    await page.locator('[data-test=nav-sales-forecast]').click()
    await page.waitForURL(/\/sales\/forecast$/)
    await page.locator('[data-test=sales-forecast-row]').first().waitFor()
    expect((await page.locator('[data-test=sales-forecast-row]').count()) === 12, 'twelve months by default')
    await page.locator('[data-test=sales-funnel-step]').first().waitFor()
    const rows = page.locator('[data-test=sales-attainment-row]')
    await rows.first().waitFor()
    const text = await page.locator('[data-test=sales-attainment]').innerText()
    expect(text.includes(east.name) && text.includes('销售部'), `rep.east's and the department's targets are listed: ${text}`)
    expect(/\d+\.\d%/.test(text), `attainment percentages are shown: ${text}`)
    // The demo's won deals were created before they closed: the cycle has figures.
    for (const by of ['product_line', 'region']) {
      await page.locator(`[data-test=sales-cycle-group] input[value=${by}]`).evaluate((el) => el.click())
      await page.waitForFunction((region) => {
        const rows = [...document.querySelectorAll('[data-test=sales-cycle-row]')]
        return rows.length >= 3 && rows.some((r) => r.innerText.startsWith('华')) === region
      }, by === 'region')
      const cycle = await page.locator('[data-test=sales-cycle-row]').evaluateAll((els) => els.map((e) => e.innerText))
      const avg = cycle.map((r) => Number((r.split('\t')[2] ?? '').replace(/[^0-9.]/g, '')))
      expect(avg.every((d) => d >= 20 && d <= 200), `the sales cycle by ${by}: ${JSON.stringify(cycle)}`)
    }
    await page.locator('[data-test=sales-period-quarter]').click()
    await page.waitForFunction(() => document.querySelectorAll('[data-test=sales-forecast-row]').length === 4)
    await shot(page, 'sales-forecast-manager', { full: true })
    await page.context().close()
    page = null
  })

  await st.step('rep.south (华南) sees no 华东 deal on the board; in English the stages are named in English', async () => {
    const eastDeals = must(await api.call('GET', `/records/opportunities?filter=${q('region == "华东"')}&per_page=1`), 'count 华东 deals', 200)
    expect(eastDeals.total > 0, 'the demo has 华东 deals')
    page = await newPage(browser, consoleErrors, DESKTOP)
    await signIn(page, 'rep.south', DEMO_PASSWORD)
    await page.locator('[data-test=nav-sales-board]').click()
    await page.waitForURL(/\/sales\/board$/)
    await page.locator('[data-test=sales-card]').first().waitFor()
    const ids = await page.locator('[data-test=sales-card]').evaluateAll((els) => els.map((e) => e.getAttribute('data-id')))
    expect(ids.length > 0, 'rep.south sees deals')
    const seen = must(await api.call('GET', `/records/opportunities?filter=${q(`id in [${ids.join(', ')}]`)}&fields=id,region&per_page=500`), 'regions of the cards', 200)
    expect(seen.items.length === ids.length, 'every card is a deal')
    const wrong = seen.items.filter((r) => r.region !== '华南')
    expect(wrong.length === 0, `deals outside 华南 on rep.south's board: ${JSON.stringify(wrong)}`)
    await shot(page, 'sales-board-south')
    // In English the columns are named in English (the shipped pipeline has both names).
    await switchLanguage(page, 'en')
    await page.locator('[data-test=sales-board] .stage', { hasText: 'Technical exchange' }).waitFor()
    const heads = await page.locator('[data-test=sales-board] .stage').allInnerTexts()
    expect(heads.length >= 9 && heads.every((h) => !/[\u4e00-\u9fff]/.test(h)), `English column names: ${JSON.stringify(heads)}`)
    await shot(page, 'sales-board-south-en')
    await switchLanguage(page, 'zh-CN')
  })

  await st.step('no unexpected browser console errors', async () => {
    expect(consoleErrors.length === 0, `console errors:\n  ${consoleErrors.join('\n  ')}`)
  })
}

await runScript('sales', st, main, {
  failureShots: () => ({ 'sales-failure': page }),
  cleanup: async () => {
    await api?.dispose()
  },
  browser: () => browser,
  consoleErrors,
})
