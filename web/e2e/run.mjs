// Browser tests of the web app against a running Tenon server.
//
//   BASE_URL=http://127.0.0.1:8080 ADMIN_PASSWORD=... node e2e/run.mjs
//
// Uses playwright-core with Debian's chromium (CHROMIUM=/usr/bin/chromium),
// headless. Creates a custom entity and a field through the API, then drives
// the UI: navigation, list, form, a 422 on its field, create / edit / delete
// / restore, a 412 conflict, filter, global search, the language switch, and
// the key screens again at 390×844. Screenshots (zh-CN and en, desktop and
// phone, of login, list, detail and form) go to SHOTS_DIR.
// Exits non-zero with a message naming the failed step.
import { chromium, request } from 'playwright-core'
import { mkdirSync } from 'node:fs'
import { join } from 'node:path'
import { gzipSync } from 'node:zlib'

const BASE_URL = (process.env.BASE_URL || 'http://127.0.0.1:8080').replace(/\/$/, '')
const ADMIN_LOGIN = process.env.ADMIN_LOGIN || 'admin'
const ADMIN_PASSWORD = process.env.ADMIN_PASSWORD
const SHOTS_DIR = process.env.SHOTS_DIR || '/tmp/tenon-shots'
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium'
const HEADED = process.env.HEADED === '1'

if (!ADMIN_PASSWORD) {
  console.error('e2e: set ADMIN_PASSWORD (and BASE_URL)')
  process.exit(2)
}
mkdirSync(SHOTS_DIR, { recursive: true })

const stamp = Date.now().toString(36)
const ENTITY = `e2e_visits_${stamp}`
const LABEL = { 'zh-CN': '现场拜访', en: 'Site visit' }

let passed = 0
let current = ''
let page = null

function fail(msg) {
  throw new Error(msg)
}

function expect(cond, msg) {
  if (!cond) fail(msg)
}

async function step(name, fn) {
  current = name
  const t0 = Date.now()
  await fn()
  passed++
  console.log(`ok   ${name} (${Date.now() - t0} ms)`)
}

async function shot(name, opts = {}) {
  // Toasts are transient; keep them out of the pictures.
  await page.evaluate(() => document.querySelectorAll('.el-message').forEach((el) => el.remove()))
  if (opts.full) await page.evaluate(() => window.scrollTo(0, 0))
  await page.waitForTimeout(250) // let transitions settle
  await page.screenshot({ path: join(SHOTS_DIR, `${name}.png`), fullPage: opts.full ?? false })
}

// ------------------------------------------------------------------ API

async function apiSession() {
  const ctx = await request.newContext({ baseURL: BASE_URL })
  const res = await ctx.post('/api/v1/auth/login', { data: { login: ADMIN_LOGIN, password: ADMIN_PASSWORD } })
  if (res.status() !== 200) fail(`API login as ${ADMIN_LOGIN}: HTTP ${res.status()} ${await res.text()}`)
  const me = await (await ctx.get('/api/v1/auth/me')).json()
  const headers = { 'X-CSRF-Token': me.csrf_token }
  return {
    async call(method, path, data, extra = {}) {
      const r = await ctx.fetch('/api/v1' + path, { method, data, headers: { ...headers, ...extra } })
      const text = await r.text()
      let body = null
      try {
        body = text ? JSON.parse(text) : null
      } catch {
        body = text
      }
      return { status: r.status(), body, headers: r.headers() }
    },
    dispose: () => ctx.dispose(),
  }
}

const entityDef = {
  name: ENTITY,
  label: LABEL,
  module: 'crm',
  title_field: 'subject',
  fields: [
    { name: 'subject', type: 'text', label: { 'zh-CN': '拜访主题', en: 'Subject' }, required: true, max_length: 200 },
    {
      name: 'stage',
      type: 'select',
      label: { 'zh-CN': '阶段', en: 'Stage' },
      options: [
        { value: 'planned', label: { 'zh-CN': '计划中', en: 'Planned' } },
        { value: 'done', label: { 'zh-CN': '已完成', en: 'Done' } },
      ],
    },
    { name: 'amount', type: 'money', label: { 'zh-CN': '预计金额', en: 'Expected amount' }, min: '0' },
    { name: 'visit_on', type: 'date', label: { 'zh-CN': '拜访日期', en: 'Visit date' } },
    { name: 'contact_email', type: 'email', label: { 'zh-CN': '联系人邮箱', en: 'Contact e-mail' } },
    { name: 'engineer', type: 'user', label: { 'zh-CN': '陪同工程师', en: 'Engineer' } },
    { name: 'onsite', type: 'boolean', label: { 'zh-CN': '现场拜访', en: 'On site' } },
    { name: 'outcome', type: 'long_text', label: { 'zh-CN': '拜访结果', en: 'Outcome' }, required_if: 'stage == "done"' },
    {
      name: 'lines',
      type: 'subtable',
      label: { 'zh-CN': '演示产品', en: 'Products shown' },
      fields: [
        { name: 'item', type: 'text', label: { 'zh-CN': '产品', en: 'Product' }, required: true },
        { name: 'qty', type: 'decimal', label: { 'zh-CN': '数量', en: 'Qty' } },
      ],
    },
    { name: 'total_qty', type: 'rollup', label: { 'zh-CN': '数量合计', en: 'Total qty' }, source: 'lines', op: 'sum', of: 'qty' },
  ],
  layouts: {
    form: {
      sections: [
        { label: { 'zh-CN': '基本信息', en: 'Basics' }, fields: ['subject', 'stage', 'amount', 'visit_on', 'contact_email', 'engineer', 'onsite'] },
        { label: { 'zh-CN': '拜访内容', en: 'Visit' }, fields: ['outcome', 'lines', 'total_qty'] },
      ],
    },
  },
  views: [{ name: 'default', kind: 'list', columns: ['subject', 'stage', 'amount', 'visit_on', 'engineer'] }],
}

// --------------------------------------------------------------- helpers

async function login(p, password = ADMIN_PASSWORD) {
  await p.locator('[data-test=login-name]').fill(ADMIN_LOGIN)
  await p.locator('[data-test=login-password]').fill(password)
  await p.locator('[data-test=login-submit]').click()
}

async function pickOption(scope, text) {
  await scope.locator('.el-select__wrapper').first().click()
  const item = page.locator('.el-select-dropdown__item:visible', { hasText: text }).first()
  await item.waitFor({ state: 'visible', timeout: 5000 })
  await item.click()
}

async function noHorizontalOverflow(what) {
  const { sw, iw } = await page.evaluate(() => ({ sw: document.documentElement.scrollWidth, iw: window.innerWidth }))
  expect(sw <= iw + 1, `${what}: the page is ${sw}px wide in a ${iw}px viewport (horizontal overflow)`)
}

async function waitIdle() {
  await page.waitForLoadState('networkidle').catch(() => {})
}

async function text(sel) {
  return (await page.locator(sel).first().innerText()).trim()
}

async function switchLanguage(to) {
  await page.locator('[data-test=lang-switch]').click()
  await page.locator(`[data-test=lang-${to}]:visible`).click()
  await page.waitForFunction((l) => document.documentElement.lang === l, to)
}

// ------------------------------------------------------------------ run

const browser = await chromium.launch({
  executablePath: CHROMIUM,
  headless: !HEADED,
  args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
})
const consoleErrors = []
let api = null
let recordId = null
let richId = null

async function newPage(opts) {
  const ctx = await browser.newContext({ locale: 'zh-CN', timezoneId: 'Asia/Shanghai', ...opts })
  const p = await ctx.newPage()
  p.setDefaultTimeout(10000)
  p.on('pageerror', (e) => consoleErrors.push(`pageerror: ${e.message}`))
  p.on('console', (m) => {
    // 401 on the first /auth/me and the 4xx the tests provoke are expected.
    if (m.type() === 'error' && !/status of (401|404|412|422)/.test(m.text())) consoleErrors.push(m.text())
  })
  return p
}

try {
  await step('API: create a custom entity and add a field', async () => {
    api = await apiSession()
    const r = await api.call('POST', '/meta/entities', entityDef)
    expect(r.status === 201, `create entity: HTTP ${r.status} ${JSON.stringify(r.body)}`)
    const f = await api.call('POST', `/meta/entities/${ENTITY}/fields`, {
      name: 'priority',
      type: 'rating',
      max: 5,
      label: { 'zh-CN': '优先级', en: 'Priority' },
    })
    expect(f.status === 201, `add field: HTTP ${f.status} ${JSON.stringify(f.body)}`)
  })

  // ---------------------------------------------------------- desktop zh
  page = await newPage({ viewport: { width: 1366, height: 860 } })

  await step('login page, wrong password shows an error', async () => {
    await page.goto(BASE_URL + '/')
    await page.waitForURL(/\/login/)
    await shot('login-zh-CN-desktop')
    await login(page, ADMIN_PASSWORD + '-wrong')
    await page.locator('[data-test=login-error]').waitFor()
    const msg = await text('[data-test=login-error]')
    expect(msg.includes('用户名或密码错误'), `wrong-password message: "${msg}"`)
  })

  await step('login as admin', async () => {
    await login(page)
    await page.waitForURL((u) => !u.pathname.startsWith('/login'))
    await page.locator(`[data-test=nav-${ENTITY}]`).waitFor()
  })

  await step('custom entity appears in navigation and opens its list', async () => {
    const nav = page.locator(`[data-test=nav-${ENTITY}]`)
    expect((await nav.innerText()).includes(LABEL['zh-CN']), 'navigation label')
    await nav.click()
    await page.waitForURL(new RegExp(`/e/${ENTITY}$`))
    await page.locator('[data-test=list-table]').waitFor()
    expect((await text('[data-test=list-title]')) === LABEL['zh-CN'], 'list title')
    const head = await page.locator('[data-test=list-table] thead').innerText()
    for (const l of ['拜访主题', '阶段', '预计金额', '拜访日期']) expect(head.includes(l), `list column "${l}" missing in: ${head}`)
    await page.locator('[data-test=list-columns]').click()
    await page.locator('.list-cols .el-checkbox', { hasText: '优先级' }).waitFor()
    await page.keyboard.press('Escape')
    await page.locator('[data-test=list-title]').click()
  })

  await step('form shows every field, including the one added later', async () => {
    await page.locator('[data-test=list-new]').click()
    await page.waitForURL(new RegExp(`/e/${ENTITY}/new$`))
    await page.locator('[data-test=record-form]').waitFor()
    const form = await page.locator('[data-test=record-form]').innerText()
    for (const l of ['拜访主题', '阶段', '预计金额', '联系人邮箱', '演示产品', '数量合计', '优先级']) expect(form.includes(l), `form label "${l}" missing`)
  })

  await step('a 422 from the server is shown on its field', async () => {
    await page.locator('[data-field=subject] input').fill('E2E 拜访 一')
    await pickOption(page.locator('[data-field=stage]'), '计划中')
    await page.locator('[data-field=amount] input').fill('12345.6')
    await page.locator('[data-field=contact_email] input').fill('not-an-email')
    await page.locator('[data-field=lines] button', { hasText: '添加行' }).click()
    const row = page.locator('[data-field=lines] [data-row]').first()
    await row.locator('input').nth(0).fill('五轴加工中心')
    await row.locator('input').nth(1).fill('2.5')
    await page.locator('[data-test=form-save]').click()
    const err = page.locator('[data-field=contact_email] .el-form-item__error')
    await err.waitFor()
    const msg = (await err.innerText()).trim()
    expect(msg.length > 0 && /邮箱/.test(msg), `error under the e-mail field: "${msg}"`)
    await shot('form-zh-CN-desktop', { full: true })
  })

  await step('create a record', async () => {
    await page.locator('[data-field=contact_email] input').fill('buyer@example.com')
    await page.locator('[data-test=form-save]').click()
    await page.waitForURL(new RegExp(`/e/${ENTITY}/\\d+$`))
    recordId = page.url().split('/').pop()
    expect((await text('[data-test=detail-title]')) === 'E2E 拜访 一', 'detail title after create')
    const body = await page.locator('.detail').innerText()
    expect(body.includes('¥12,345.60'), 'money shown with currency on the detail screen')
    expect(body.includes('计划中'), 'select label on the detail screen')
    expect(body.includes('五轴加工中心'), 'sub-table row on the detail screen')
    await shot('detail-zh-CN-desktop', { full: true })
  })

  await step('edit the record', async () => {
    await page.locator('[data-test=detail-edit]').click()
    await page.waitForURL(/\/edit$/)
    await page.locator('[data-field=subject] input').fill('E2E 拜访 二')
    await page.locator('[data-test=form-save]').click()
    await page.waitForURL(new RegExp(`/e/${ENTITY}/${recordId}$`))
    await page.waitForFunction(() => document.querySelector('[data-test=detail-title]')?.textContent?.trim() === 'E2E 拜访 二')
    await page.locator('.el-tabs__item', { hasText: '修改记录' }).click()
    await page.locator('[data-test=history] .el-timeline-item').nth(1).waitFor()
    await shot('history-zh-CN-desktop')
  })

  await step('a 412 conflict offers to reload and names the changed field', async () => {
    await page.goto(`${BASE_URL}/e/${ENTITY}/${recordId}/edit`)
    await page.locator('[data-field=subject] input').waitFor()
    const cur = await api.call('GET', `/records/${ENTITY}/${recordId}`)
    const r = await api.call('PATCH', `/records/${ENTITY}/${recordId}`, { amount: '99999' }, { 'If-Match': `"${cur.body.version}"` })
    expect(r.status === 200, `API patch: HTTP ${r.status}`)
    await page.locator('[data-field=subject] input').fill('E2E 拜访 冲突')
    await page.locator('[data-test=form-save]').click()
    const dlg = page.locator('.el-dialog', { hasText: '记录已被他人修改' })
    await dlg.waitFor()
    expect((await dlg.innerText()).includes('预计金额'), 'conflict dialog lists the changed field')
    await dlg.locator('[data-test=conflict-reload]').click()
    await page.waitForFunction(() => document.querySelector('[data-field=amount] input')?.value === '99999.00')
    expect((await page.locator('[data-field=subject] input').inputValue()) === 'E2E 拜访 二', 'reload brings back the server value')
  })

  await step('delete, find in the recycle bin, restore', async () => {
    await page.goto(`${BASE_URL}/e/${ENTITY}/${recordId}`)
    await page.locator('[data-test=detail-delete]').click()
    await page.locator('.el-message-box .el-button', { hasText: '删除' }).click()
    await page.waitForURL(new RegExp(`/e/${ENTITY}$`))
    await waitIdle()
    expect((await page.locator('[data-test=list-table] tbody tr').count()) === 0, 'list is empty after delete')
    await page.locator('.list-bin').click()
    await page.waitForURL(/bin=1/)
    const row = page.locator('[data-test=list-table] tbody tr', { hasText: 'E2E 拜访 二' })
    await row.waitFor()
    await row.locator('[data-test=row-restore]').click()
    await page.locator('.el-message--success', { hasText: '已恢复' }).first().waitFor()
    await page.locator('.list-bin').click()
    await page.locator('[data-test=list-table] tbody tr', { hasText: 'E2E 拜访 二' }).waitFor()
  })

  await step('filter builder writes the expression and filters', async () => {
    const r = await api.call('POST', `/records/${ENTITY}`, {
      subject: 'E2E 已完成拜访',
      stage: 'done',
      outcome: '客户确认了技术方案，下周报价',
      amount: '1280000',
      visit_on: '2026-11-18',
      engineer: '1',
      onsite: true,
      priority: 4,
      lines: [{ item: '精密注塑模具', qty: '2' }, { item: '检具', qty: '1' }],
    })
    expect(r.status === 201, `API create: HTTP ${r.status} ${JSON.stringify(r.body)}`)
    richId = r.body.id
    await page.reload()
    await page.locator('[data-test=list-table] tbody tr').nth(1).waitFor()
    await page.locator('[data-test=list-filter]').click()
    const fb = page.locator('[data-test=filter-row]').first()
    await pickOption(fb.locator('[data-test=filter-field]').locator('xpath=..'), '阶段')
    await pickOption(fb.locator('.fb-value'), '已完成')
    const expr = await page.locator('[data-test=filter-expression]').inputValue()
    expect(expr === 'stage == "done"', `expression text: ${expr}`)
    await shot('list-zh-CN-desktop')
    await page.locator('[data-test=filter-apply]').click()
    await page.waitForURL(/filter=/)
    await waitIdle()
    await page.waitForFunction(() => document.querySelectorAll('[data-test=list-table] tbody tr').length === 1)
    expect((await page.locator('[data-test=list-table] tbody').innerText()).includes('E2E 已完成拜访'), 'filtered row')
  })

  await step('global search finds the record', async () => {
    await page.locator('[data-test=global-search]').fill('已完成拜访')
    await page.locator('[data-test=global-search]').press('Enter')
    await page.waitForURL(/\/search\?q=/)
    const g = page.locator('[data-test=search-group]', { hasText: LABEL['zh-CN'] })
    await g.waitFor()
    expect((await g.innerText()).includes('E2E 已完成拜访'), 'search result')
  })

  await step('bulk delete of selected records', async () => {
    for (const n of ['一', '二']) {
      const r = await api.call('POST', `/records/${ENTITY}`, { subject: `E2E 批量删除 ${n}`, stage: 'planned' })
      expect(r.status === 201, `API create: HTTP ${r.status}`)
    }
    await page.goto(`${BASE_URL}/e/${ENTITY}?q=${encodeURIComponent('批量删除')}`)
    await page.locator('[data-test=list-table] tbody tr').nth(1).waitFor()
    expect((await page.locator('[data-test=list-table] tbody tr').count()) === 2, 'search shows the two records')
    await page.locator('[data-test=list-table] thead .el-checkbox').click()
    await page.locator('[data-test=bulk-delete]').click()
    await page.locator('.el-message-box .el-button', { hasText: '删除' }).click()
    await page.locator('.el-message--success', { hasText: '2' }).first().waitFor()
    await page.waitForFunction(() => document.querySelectorAll('[data-test=list-table] tbody tr').length === 0)
  })

  await step('language switch to English', async () => {
    await page.goto(`${BASE_URL}/e/${ENTITY}`)
    await page.locator('[data-test=list-table] tbody tr').first().waitFor()
    await switchLanguage('en')
    await page.waitForFunction(() => document.querySelector('[data-test=list-title]')?.textContent?.trim() === 'Site visit')
    const head = await page.locator('[data-test=list-table] thead').innerText()
    expect(head.includes('Expected amount'), `English column labels: ${head}`)
    expect((await page.locator(`[data-test=nav-${ENTITY}]`).innerText()).includes('Site visit'), 'English navigation')
    await shot('list-en-desktop')
    await page.goto(`${BASE_URL}/e/${ENTITY}/${richId}`)
    await page.locator('[data-test=detail-title]').waitFor()
    expect((await page.locator('.detail').innerText()).includes('Done'), 'English option label')
    await shot('detail-en-desktop', { full: true })
    await page.goto(`${BASE_URL}/e/${ENTITY}/${recordId}/edit`)
    await page.locator('[data-test=record-form]').waitFor()
    await shot('form-en-desktop', { full: true })
    // The server answers in the chosen language too.
    await page.locator('[data-field=contact_email] input').fill('nope')
    await page.locator('[data-test=form-save]').click()
    const err = page.locator('[data-field=contact_email] .el-form-item__error')
    await err.waitFor()
    const msg = (await err.innerText()).trim()
    expect(/[a-z]/i.test(msg) && !/邮箱/.test(msg), `English server message on the field: "${msg}"`)
    await page.goto(`${BASE_URL}/profile`)
    await page.locator('[data-test=new-password]').waitFor()
    await shot('profile-en-desktop')
    await page.locator('[data-test=user-menu]').click()
    await page.locator('[data-test=menu-logout]:visible').click()
    await page.waitForURL(/\/login/)
    await page.locator('[data-test=login-submit]').waitFor()
    expect((await text('[data-test=login-submit]')) === 'Sign in', 'English login page')
    await shot('login-en-desktop')
  })
  await page.context().close()

  // ------------------------------------------------------------ phone
  for (const lang of ['zh-CN', 'en']) {
    page = await newPage({ viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true, deviceScaleFactor: 2 })
    const zh = lang === 'zh-CN'
    const js = new Map()
    page.on('response', async (res) => {
      if (res.url().endsWith('.js') && !js.has(res.url())) js.set(res.url(), res.body().then((b) => gzipSync(b, { level: 9 }).length).catch(() => 0))
    })
    await step(`phone ${lang}: login`, async () => {
      await page.goto(BASE_URL + '/login')
      if (!zh) {
        await page.locator('[data-test="login-lang-en"]').click()
        await page.waitForFunction(() => document.documentElement.lang === 'en')
      }
      await page.locator('[data-test=login-submit]').waitFor()
      await noHorizontalOverflow('login')
      await shot(`login-${lang}-phone`)
      await login(page)
      await page.waitForURL((u) => !u.pathname.startsWith('/login'))
    })
    await step(`phone ${lang}: navigation drawer and list cards`, async () => {
      await page.locator('[data-test=nav-toggle]').click()
      await page.locator(`.el-drawer [data-test=nav-${ENTITY}]`).click()
      await page.waitForURL(new RegExp(`/e/${ENTITY}$`))
      await page.locator('[data-test=list-cards] [data-test=list-row]').first().waitFor()
      expect((await page.locator('[data-test=list-table]').count()) === 0, 'phone list must be cards, not a table')
      await waitIdle()
      await noHorizontalOverflow('list')
      await shot(`list-${lang}-phone`)
      const sizes = await Promise.all(js.values())
      const kb = (sizes.reduce((a, b) => a + b, 0) / 1024).toFixed(1)
      console.log(`     JavaScript loaded by login → list, cold cache: ${sizes.length} files, ${kb} KB gzipped`)
    })
    await step(`phone ${lang}: detail`, async () => {
      await page.locator('[data-test=list-row]', { hasText: 'E2E 已完成拜访' }).click()
      await page.waitForURL(new RegExp(`/e/${ENTITY}/${richId}$`))
      await page.locator('[data-test=detail-title]').waitFor()
      await waitIdle()
      await noHorizontalOverflow('detail')
      await shot(`detail-${lang}-phone`, { full: true })
    })
    await step(`phone ${lang}: form`, async () => {
      await page.locator('[data-test=detail-edit]').click()
      await page.waitForURL(/\/edit$/)
      await page.locator('[data-test=record-form]').waitFor()
      await waitIdle()
      await noHorizontalOverflow('form')
      await shot(`form-${lang}-phone`, { full: true })
      const grid = await page.locator('.form-grid').first().evaluate((el) => getComputedStyle(el).gridTemplateColumns.split(' ').length)
      expect(grid === 1, `phone form must be one column, has ${grid}`)
    })
    await page.context().close()
  }

  await step('no unexpected errors in the browser console', async () => {
    expect(consoleErrors.length === 0, `console errors:\n  ${consoleErrors.join('\n  ')}`)
  })

  console.log(`\n${passed} passed, 0 failed`)
  console.log(`screenshots: ${SHOTS_DIR}`)
} catch (e) {
  console.error(`FAIL ${current}: ${e.message}`)
  if (page) {
    await page.screenshot({ path: join(SHOTS_DIR, 'failure.png'), fullPage: true }).catch(() => {})
    console.error(`  url: ${page.url()}; screenshot: ${join(SHOTS_DIR, 'failure.png')}`)
  }
  console.log(`\n${passed} passed, 1 failed`)
  process.exitCode = 1
} finally {
  await api?.dispose().catch(() => {})
  await browser.close()
}
