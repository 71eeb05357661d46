// Browser tests of the quote-to-order screens (quote editor, contract and
// sales order pages, the opportunity's and the account's documents)
// against a running `tenon serve --demo`.
//
//   BASE_URL=http://127.0.0.1:8080 ADMIN_PASSWORD=... node e2e/quoting.mjs
//
// Through the API (as admin): two active catalog products with a price
// book, unless the demo has them. In the browser:
//   - rep.east opens an open opportunity, "New quote": the editor has the
//     opportunity and its account; two catalog lines typed with the
//     keyboard (Enter adds a line, Ctrl+Delete removes one), the price
//     lookup fills the unit prices and names the price book, 15 % off the
//     second line; saved, the lines and totals are the server's, and no
//     margin panel shows (a rep may not see cost); submitted, it waits for
//     approval;
//   - sales.manager approves it in "My approvals";
//   - rep.east: the print address answers a PDF; the quote is marked as
//     sent by hand, accepted, and its contract created (30/60/10
//     milestones); the contract is submitted, approved by legal and then
//     finance in their inboxes, and signed with an uploaded scan; the
//     account's 360° page lists the sales order, whose page opens;
//   - the quote in English; the editor on a phone (390×844) with its lines
//     as cards and no horizontal overflow.
// Screenshots go to SHOTS_DIR (quoting-*.png); any unexpected browser
// console error fails the run.
import { BASE_URL, DEMO_PASSWORD, apiSession, expect, fail, runScript, launch, must, newPage, noHorizontalOverflow, requireConfig, resetLanguages, shot, signIn, steps, switchLanguage } from './lib.mjs'

requireConfig('e2e/quoting.mjs')

const DESKTOP = { viewport: { width: 1366, height: 900 } }
const PHONE = { viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true, deviceScaleFactor: 2 }
const q = encodeURIComponent
const stamp = Date.now().toString(36)

const st = steps()
const consoleErrors = []
let browser = null
let admin = null
let rep = null
let page = null
let other = null

const byTest = (p, t) => p.locator(`[data-test="${t}"]`)

/** products returns two active catalog products, creating them (and a price book) when the catalog has fewer. */
async function products() {
  const have = must(await admin.call('GET', `/records/products?filter=${q('active == true')}&sort=code&per_page=2&fields=id,code,name`), 'list products', 200).items
  if (have.length >= 2) return have
  const made = []
  for (const p of [
    { code: `E2E-BM-${stamp}`, name: `折弯机 E2E ${stamp}`, kind: 'finished', product_line: 'equipment', unit: '台', list_price: '120000', standard_cost: '80000', active: true },
    { code: `E2E-SP-${stamp}`, name: `模具套装 E2E ${stamp}`, kind: 'spare', product_line: 'parts', unit: '套', list_price: '8000', standard_cost: '4500', active: true },
  ]) made.push(must(await admin.call('POST', '/records/products', p), `create product ${p.code}`))
  must(
    await admin.call('POST', '/records/price_books', {
      name: `E2E 价目表 ${stamp}`,
      kind: 'list',
      currency: 'CNY',
      tax_included: true,
      active: true,
      priority: '5',
      items: [
        { product: made[0].id, min_quantity: '1', unit_price: '135600' },
        { product: made[1].id, min_quantity: '1', unit_price: '9040' },
      ],
    }),
    'create a price book',
  )
  return made
}

/** publishShipped publishes the module's shipped flows still left as drafts (see the report: the demo's roles come after the first install). */
async function publishShipped() {
  const defs = must(await admin.call('GET', `/records/flow_definitions?filter=${q('entity in ["quotes", "contracts", "sales_orders"]')}&fields=id,name,status,published_version`), 'list flows', 200).items
  const drafts = defs.filter((d) => d.status === 'draft' && !d.published_version)
  for (const d of drafts) must(await admin.call('POST', `/records/flow_definitions/${d.id}/actions/publish`, {}), `publish flow ${d.name}`)
  return drafts.map((d) => d.name)
}

/** statusOf reads a document's status through the rep's API session. */
async function statusOf(entity, id) {
  return must(await rep.call('GET', `/records/${entity}/${id}?fields=id,status`), `read ${entity} ${id}`, 200).status
}

async function waitStatus(p, status) {
  await p.locator(`[data-test=doc-status][data-status="${status}"]`).waitFor()
}

/** confirmBox accepts the open Element Plus message box. */
async function confirmBox(p) {
  const btn = p.locator('.el-message-box__btns .el-button--primary')
  await btn.waitFor()
  await btn.click()
}

/** approveInInbox signs in as login in a fresh page and approves the card titled title in "My approvals". */
async function approveInInbox(login, title, shotName) {
  other = await newPage(browser, consoleErrors, DESKTOP)
  await signIn(other, login, DEMO_PASSWORD)
  await other.goto(`${BASE_URL}/approvals`)
  const card = other.locator(`[data-test=inbox-item][data-title="${title}"]`)
  await card.waitFor()
  await card.click()
  const detail = other.locator('[data-test=approval-detail]')
  await detail.locator('[data-test=flow-approve]').click()
  const dlg = other.locator('[data-test=flow-action-dialog][data-action=approve]')
  await dlg.waitFor()
  await dlg.locator('[data-test=flow-action-comment]').fill(`同意（${login}）`)
  if (shotName) await shot(other, shotName)
  await dlg.locator('[data-test=flow-action-ok]').click()
  await dlg.waitFor({ state: 'hidden' })
  await card.waitFor({ state: 'detached' })
  await other.context().close()
  other = null
}

/** pickProduct types text into line row's product cell and takes the first match with Enter. */
async function pickProduct(p, row, text) {
  const cell = p.locator(`[data-cell="${row}-0"]`)
  const input = cell.locator('input')
  await input.focus()
  await p.keyboard.type(text, { delay: 20 })
  await p.locator('.el-select-dropdown__item:visible', { hasText: text }).first().waitFor()
  await p.keyboard.press('Enter')
  // The lookup fills the unit price.
  await p.waitForFunction((r) => document.querySelector(`[data-cell="${r}-3"] input`)?.value !== '', row)
}

async function main() {
  browser = await launch()
  admin = await apiSession()
  await resetLanguages(admin)
  rep = await apiSession('rep.east', DEMO_PASSWORD)
  let catalog = []
  let opp = null
  let quote = null
  let contract = null
  let order = null
  let printProblem = ''

  await st.step('the catalog has two active products with prices; the shipped flows are published', async () => {
    catalog = await products()
    expect(catalog.length === 2, 'two products')
    const published = await publishShipped()
    if (published.length) console.log(`     (published the shipped flows left as drafts: ${published.join(', ')})`)
    const opps = must(await rep.call('GET', `/records/opportunities?filter=${q('status == "open"')}&sort=-updated_at&per_page=20&fields=id,name,account`), 'find an open opportunity', 200).items
    opp = opps.find((o) => o.account)
    expect(opp, 'rep.east has an open opportunity with an account')
  })

  await st.step('rep.east opens the opportunity and starts a quote from it', async () => {
    page = await newPage(browser, consoleErrors, DESKTOP)
    await signIn(page, 'rep.east', DEMO_PASSWORD)
    await page.goto(`${BASE_URL}/e/opportunities/${opp.id}`)
    await byTest(page, 'record-docs-quotes').waitFor()
    await byTest(page, 'opp-new-quote').click()
    await page.waitForURL(/\/e\/quotes\/new\?opportunity=/)
    await byTest(page, 'quote-editor').waitFor()
    await page.locator("[data-field=account] .el-select__placeholder:not(.is-transparent)").first().waitFor()
    for (const f of ['opportunity', 'account']) {
      const text = await page.locator(`[data-field=${f}] .el-select__placeholder`).first().innerText()
      expect(!text.includes('#') && text.trim().length > 2, `the ${f} is named: ${text}`)
    }
    expect((await page.locator('[data-field=title] input').inputValue()) === opp.name, 'the title is the opportunity name')
  })

  await st.step('two catalog lines are typed with the keyboard; the price lookup fills the prices', async () => {
    await pickProduct(page, 0, catalog[0].code)
    const qty = page.locator('[data-cell="0-2"] input')
    await qty.fill('2')
    await qty.press('Tab') // the quantity's change asks for the price again
    // Enter on the last line adds one and moves to its product cell.
    await qty.focus()
    await page.keyboard.press('Enter')
    await page.locator('[data-cell="1-0"]').waitFor()
    expect(await page.evaluate(() => !!document.activeElement?.closest('[data-cell="1-0"]')), 'Enter on the last line focuses the new line')
    await pickProduct(page, 1, catalog[1].code)
    // Tab across: description, quantity, unit price, discount.
    await page.keyboard.press('Tab')
    expect(await page.evaluate(() => !!document.activeElement?.closest('[data-cell="1-1"]')), 'Tab moves to the description')
    await page.keyboard.press('Tab')
    await page.keyboard.press('Control+A')
    await page.keyboard.type('4')
    await page.keyboard.press('Tab')
    await page.keyboard.press('Tab')
    expect(await page.evaluate(() => !!document.activeElement?.closest('[data-cell="1-4"]')), 'Tab reaches the discount')
    await page.keyboard.type('15')
    // Enter adds a third line; Ctrl+Delete removes it again; ↑ goes back to line 2.
    await page.keyboard.press('Enter')
    await page.locator('[data-cell="2-0"]').waitFor()
    await page.keyboard.press('Control+Delete')
    await page.locator('[data-cell="2-0"]').waitFor({ state: 'detached' })
    expect((await page.locator('[data-test=quote-line]').count()) === 2, 'two lines')
    const source = await page.locator('[data-test=line-source]').first().innerText()
    expect(source.trim().length > 0, 'the first line names where its price comes from')
    await byTest(page, 'quote-unsaved').waitFor()
    await shot(page, 'quoting-editor-new', { full: true })
  })

  await st.step('saved, the quote shows the server\'s amounts and totals, and no margin to a rep', async () => {
    await byTest(page, 'quote-save').click()
    await page.waitForURL(/\/e\/quotes\/\d+$/)
    const id = page.url().split('/').pop()
    quote = must(await rep.call('GET', `/records/quotes/${id}`), 'read the quote', 200)
    expect(quote.status === 'draft' && quote.lines.length === 2, `a draft with two lines: ${JSON.stringify(quote)}`)
    expect(quote.lines[1].discount_pct === '15.00', `15 % off the second line: ${quote.lines[1].discount_pct}`)
    expect(String(quote.opportunity) === String(opp.id), 'the quote is of the opportunity')
    await waitStatus(page, 'draft')
    await page.locator('[data-test=line-amount]').first().filter({ hasText: '¥' }).waitFor()
    const totals = await byTest(page, 'quote-totals').innerText()
    const want = Number(quote.total).toLocaleString('en-US', { minimumFractionDigits: 2 })
    expect(totals.includes(want), `the totals show the server's total ${want}: ${totals}`)
    expect((await byTest(page, 'quote-unsaved').count()) === 0, 'no unsaved hint after saving')
    expect((await byTest(page, 'quote-margin').count()) === 0, 'a rep sees no margin panel')
    expect(!('margin' in quote) && !('cost_total' in quote), 'the rep\'s record has no cost fields')
    await shot(page, 'quoting-quote-draft', { full: true })
  })

  await st.step('submitted, the quote waits for approval', async () => {
    await byTest(page, 'doc-act-submit').click()
    await confirmBox(page)
    await waitStatus(page, 'pending_approval')
    expect((await page.locator('[data-field=title] input').count()) === 0 && (await byTest(page, 'quote-save').count()) === 0, 'a submitted quote is read only')
    await byTest(page, 'quote-readonly').waitFor()
    await byTest(page, 'flow-panel').waitFor()
    await shot(page, 'quoting-quote-pending', { full: true })
  })

  await st.step('sales.manager approves the quote in "My approvals"', async () => {
    await approveInInbox('sales.manager', quote.number, 'quoting-approve-manager')
    // A total over the threshold goes on to the general manager.
    if ((await statusOf('quotes', quote.id)) === 'pending_approval') await approveInInbox('gm', quote.number)
    expect((await statusOf('quotes', quote.id)) === 'approved', 'the quote is approved')
  })

  await st.step('rep.east: the print address answers a PDF; the quote is sent by hand and accepted', async () => {
    await page.reload()
    await waitStatus(page, 'approved')
    const url = await byTest(page, 'doc-print').getAttribute('data-url')
    const res = await page.evaluate(async (u) => {
      const r = await fetch(u)
      return { status: r.status, type: r.headers.get('content-type') ?? '' }
    }, url)
    if (res.status !== 200 || !res.type.startsWith('application/pdf')) printProblem = `GET ${url}: HTTP ${res.status} ${res.type}`
    else {
      // The dialog frames the PDF as a blob of the page (the answer itself may not be framed).
      await byTest(page, 'doc-print').click()
      await byTest(page, 'doc-print-dialog').locator('iframe[src^="blob:"]').waitFor()
      await page.waitForTimeout(1000) // the browser's PDF viewer draws the first page
      await shot(page, 'quoting-print-preview')
      await page.keyboard.press('Escape')
    }
    await byTest(page, 'doc-act-send').click()
    const dlg = byTest(page, 'doc-dialog')
    await dlg.locator('[data-test=send-manual]').click()
    await dlg.locator('[data-test=doc-dialog-ok]').click()
    await waitStatus(page, 'sent')
    await byTest(page, 'doc-act-accept').click()
    await confirmBox(page)
    await waitStatus(page, 'accepted')
    await shot(page, 'quoting-quote-accepted', { full: true })
  })

  await st.step('the contract is created from the quote, with its 30/60/10 milestones', async () => {
    await byTest(page, 'doc-act-create_contract').click()
    await confirmBox(page)
    await page.waitForURL(/\/e\/contracts\/\d+$/)
    contract = { id: page.url().split('/').pop() }
    await byTest(page, 'doc-page-contracts').waitFor()
    await waitStatus(page, 'draft')
    expect((await page.locator('[data-test=contract-milestone]').count()) === 3, 'three milestones')
    expect((await page.locator('[data-test=quote-line]').count()) === 2, 'the quote\'s two lines')
    await page.locator('[data-field=quote] a').first().waitFor()
    await shot(page, 'quoting-contract-draft', { full: true })
  })

  await st.step('the contract is submitted and approved by legal, then finance', async () => {
    await byTest(page, 'doc-act-submit').click()
    await waitStatus(page, 'pending_approval')
    const c = must(await rep.call('GET', `/records/contracts/${contract.id}?fields=id,number`), 'read the contract', 200)
    contract.number = c.number
    await approveInInbox('legal', c.number, 'quoting-approve-legal')
    await approveInInbox('finance', c.number)
    expect((await statusOf('contracts', contract.id)) === 'approved', 'the contract is approved')
  })

  await st.step('rep.east signs the contract with the scan; the sales order is made', async () => {
    await page.reload()
    await waitStatus(page, 'approved')
    await byTest(page, 'doc-act-sign').click()
    const dlg = byTest(page, 'doc-dialog')
    await dlg.locator('[data-test=sign-scan] input[type=file]').setInputFiles({ name: '合同扫描件.pdf', mimeType: 'application/pdf', buffer: Buffer.from('%PDF-1.4\n% signed copy\n%%EOF\n') })
    await dlg.locator('[data-test=sign-scan] .file-current').waitFor()
    await shot(page, 'quoting-sign-dialog')
    await dlg.locator('[data-test=doc-dialog-ok]').click()
    await waitStatus(page, 'signed')
    const c = must(await rep.call('GET', `/records/contracts/${contract.id}?fields=id,sales_order,signed_scan`), 'read the signed contract', 200)
    expect(c.sales_order && c.signed_scan, `the contract has its order and scan: ${JSON.stringify(c)}`)
    order = { id: String(c.sales_order) }
    await page.locator('[data-field=sales_order] a').first().waitFor()
    await shot(page, 'quoting-contract-signed', { full: true })
  })

  await st.step('the account\'s 360° page lists the sales order, whose page opens', async () => {
    await page.goto(`${BASE_URL}/crm/accounts/${opp.account}`)
    const row = page.locator(`[data-test=record-docs-sales_orders] [data-test=record-doc][data-id="${order.id}"]`)
    await row.waitFor()
    await page.locator(`[data-test=record-docs-quotes] [data-test=record-doc][data-id="${quote.id}"]`).waitFor()
    await page.locator(`[data-test=record-docs-contracts] [data-test=record-doc][data-id="${contract.id}"]`).waitFor()
    await byTest(page, 'record-docs').scrollIntoViewIfNeeded()
    await shot(page, 'quoting-account-360', { full: true })
    await row.locator('a').first().click()
    await page.waitForURL(new RegExp(`/e/sales_orders/${order.id}$`))
    await byTest(page, 'doc-page-sales_orders').waitFor()
    await page.locator('[data-test=quote-line]').first().waitFor()
    await page.locator('[data-field=contract] a').first().waitFor()
    await shot(page, 'quoting-order', { full: true })
  })

  await st.step('the quote in English', async () => {
    await page.goto(`${BASE_URL}/e/quotes/${quote.id}`)
    await waitStatus(page, 'accepted')
    await switchLanguage(page, 'en')
    await byTest(page, 'quote-totals').filter({ hasText: 'Total' }).waitFor()
    const heads = await page.locator('[data-test=quote-lines] th').allInnerTexts()
    expect(heads.some((h) => h.includes('Product')) && heads.every((h) => !/[\u4e00-\u9fff]/.test(h)), `English column heads: ${JSON.stringify(heads)}`)
    await shot(page, 'quoting-quote-en', { full: true })
    await switchLanguage(page, 'zh-CN')
    await page.context().close()
    page = null
  })

  await st.step('the editor on a phone: lines as cards, no horizontal overflow', async () => {
    page = await newPage(browser, consoleErrors, PHONE)
    await signIn(page, 'rep.east', DEMO_PASSWORD)
    await page.goto(`${BASE_URL}/e/quotes/new?opportunity=${opp.id}`)
    await byTest(page, 'quote-editor').waitFor()
    await pickProduct(page, 0, catalog[0].code)
    await noHorizontalOverflow(page, 'the quote editor on a phone')
    await shot(page, 'quoting-editor-phone', { full: true })
    await page.goto(`${BASE_URL}/e/quotes/${quote.id}`)
    await waitStatus(page, 'accepted')
    await noHorizontalOverflow(page, 'a quote on a phone')
    await shot(page, 'quoting-quote-phone', { full: true })
  })

  await st.step('the print address answered a PDF', async () => {
    if (printProblem) fail(printProblem)
  })

  await st.step('no unexpected browser console errors', async () => {
    expect(consoleErrors.length === 0, `console errors:\n  ${consoleErrors.join('\n  ')}`)
  })
}

await runScript('quoting', st, main, {
  failureShots: () => ({ 'quoting-failure': page, 'quoting-failure-other': other }),
  cleanup: async () => {
    await admin?.dispose()
    await rep?.dispose()
  },
  browser: () => browser,
  consoleErrors,
})
