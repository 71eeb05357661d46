// Browser tests of the web app against a running Tenon server.
//
//   BASE_URL=http://127.0.0.1:8080 ADMIN_PASSWORD=... node e2e/run.mjs
//
// Uses playwright-core with Debian's chromium (CHROMIUM=/usr/bin/chromium),
// headless. Creates a custom entity and a field through the API, then drives
// the UI: navigation, list, form, a 422 on its field, create / edit / delete
// / restore, a 412 conflict, filter, global search, saved views, kanban
// drag (a move the server accepts and one it refuses), bulk actions, the
// detail tabs (related, timeline, files), the address cascade, data scope
// by region (a rep cannot find another region's record by list, search or
// URL), the admin screens (permission matrix, users, departments, API
// tokens), the language switch, the screens again at 390×844, and the
// rich-text editor (toolbar, saved HTML, unsafe HTML from the API inert).
// Screenshots (zh-CN and en, desktop and phone) go to SHOTS_DIR.
// The users rep.east / rep.south (password demo1234) and the role sales_rep
// of the demo company are used when present (`serve --demo`) and created
// otherwise. Exits non-zero with a message naming the failed step.
import { request } from 'playwright-core'
import { join } from 'node:path'
import { gzipSync } from 'node:zlib'
import * as lib from './lib.mjs'
import { BASE_URL, ADMIN_LOGIN, ADMIN_PASSWORD, SHOTS_DIR, expect, apiSession, login } from './lib.mjs'

lib.requireConfig('e2e')

const stamp = Date.now().toString(36)
const ENTITY = `e2e_visits_${stamp}`
const REGION_ENTITY = `e2e_deals_${stamp}`
const REP_PASSWORD = lib.DEMO_PASSWORD
const LABEL = { 'zh-CN': '现场拜访', en: 'Site visit' }

const run = lib.steps()
const step = run.step
let page = null

function fail(msg) {
  lib.fail(msg)
}

const shot = (name, opts) => lib.shot(page, name, opts)

// ------------------------------------------------------------------ API

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
        { value: 'visiting', label: { 'zh-CN': '拜访中', en: 'Visiting' } },
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
    { name: 'site_address', type: 'address', label: { 'zh-CN': '现场地址', en: 'Site address' } },
    { name: 'attachment', type: 'file', label: { 'zh-CN': '拜访纪要', en: 'Visit notes' } },
  ],
  layouts: {
    form: {
      sections: [
        { label: { 'zh-CN': '基本信息', en: 'Basics' }, fields: ['subject', 'stage', 'amount', 'visit_on', 'contact_email', 'engineer', 'onsite'] },
        { label: { 'zh-CN': '拜访内容', en: 'Visit' }, fields: ['outcome', 'lines', 'total_qty', 'site_address', 'attachment'] },
      ],
    },
  },
  views: [{ name: 'default', kind: 'list', columns: ['subject', 'stage', 'amount', 'visit_on', 'engineer'] }],
}

// --------------------------------------------------------------- helpers

const q = (s) => encodeURIComponent(s)

/** findOne returns the first record of entity matching filter, or null. */
const findOne = (entity, filter) => lib.findOne(api, entity, filter)

async function mustCreate(entity, body) {
  const r = await api.call('POST', `/records/${entity}`, body)
  expect(r.status === 201, `create ${entity}: HTTP ${r.status} ${JSON.stringify(r.body)}`)
  return r.body
}

/**
 * ensureOrg makes sure the regions 华东 / 华南, the role sales_rep and the
 * users rep.east / rep.south exist (the demo company has them), and gives
 * sales_rep read/create/update on REGION_ENTITY with scope "regions".
 */
async function ensureOrg() {
  for (const [code, name] of [['华东', '华东区'], ['华南', '华南区']]) {
    if (!(await findOne('regions', `code == ${JSON.stringify(code)}`))) await mustCreate('regions', { code, name })
  }
  let role = await findOne('roles', 'name == "sales_rep"')
  if (!role) role = await mustCreate('roles', { name: 'sales_rep', title: '销售代表 / Sales rep', permissions: [] })
  const perms = [...(role.permissions ?? []), { entity: REGION_ENTITY, actions: ['read', 'create', 'update'], scope: 'regions' }]
  const pr = await api.call('PATCH', `/records/roles/${role.id}`, { permissions: perms }, { 'If-Match': `"${role.version}"` })
  expect(pr.status === 200, `grant sales_rep: HTTP ${pr.status} ${JSON.stringify(pr.body)}`)
  const reps = {}
  for (const [login, region, name] of [['rep.east', '华东', '张伟'], ['rep.south', '华南', '刘洋']]) {
    let u = await findOne('users', `login == ${JSON.stringify(login)}`)
    if (!u) {
      u = await mustCreate('users', { login, name, regions: [region], roles: [role.id] })
      const pw = await api.call('POST', `/records/users/${u.id}/actions/set_password`, { password: REP_PASSWORD })
      expect(pw.status < 300, `set ${login} password: HTTP ${pw.status}`)
    }
    reps[login] = u
  }
  return reps
}

/** dragTo drags an element onto another with the mouse, in small steps. */
async function dragTo(from, to) {
  const a = await from.boundingBox()
  const b = await to.boundingBox()
  await page.mouse.move(a.x + a.width / 2, a.y + 12)
  await page.mouse.down()
  await page.mouse.move(a.x + a.width / 2 + 10, a.y + 20, { steps: 3 })
  await page.mouse.move(b.x + b.width / 2, b.y + 60, { steps: 12 })
  await page.mouse.up()
}

const column = (value) => page.locator(`[data-test=kanban-column][data-value="${value}"]`)
const card = (title) => page.locator('[data-test=kanban-card]', { hasText: title })

const pickOption = (scope, text) => lib.pickOption(page, scope, text)
const noHorizontalOverflow = (what) => lib.noHorizontalOverflow(page, what)

async function waitIdle() {
  await page.waitForLoadState('networkidle').catch(() => {})
}

async function text(sel) {
  return (await page.locator(sel).first().innerText()).trim()
}

const switchLanguage = (to) => lib.switchLanguage(page, to)

// ------------------------------------------------------------------ run

const browser = await lib.launch()
const consoleErrors = []
let api = null
let recordId = null
let richId = null
let reps = {}
let eastId = null
let southId = null
let viewer = null

const newPage = (opts) => lib.newPage(browser, consoleErrors, opts)

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

  await step('API: an entity with a region, sales reps of two regions', async () => {
    const r = await api.call('POST', '/meta/entities', {
      name: REGION_ENTITY,
      label: { 'zh-CN': '区域商机', en: 'Regional deals' },
      module: 'sales',
      title_field: 'name',
      fields: [
        { name: 'name', type: 'text', label: { 'zh-CN': '名称', en: 'Name' }, required: true },
        { name: 'region', type: 'select', options_from: 'regions', label: { 'zh-CN': '区域', en: 'Region' } },
        { name: 'account', type: 'link', target: ENTITY, label: { 'zh-CN': '来源拜访', en: 'From visit' } },
      ],
    })
    expect(r.status === 201, `create entity: HTTP ${r.status} ${JSON.stringify(r.body)}`)
    reps = await ensureOrg()
    eastId = (await mustCreate(REGION_ENTITY, { name: 'E2E 华东机密商机', region: '华东', owner: reps['rep.east'].id })).id
    southId = (await mustCreate(REGION_ENTITY, { name: 'E2E 华南商机', region: '华南', owner: reps['rep.east'].id })).id
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

  await step('saved view: save the filter as a default view, switch, open by default', async () => {
    await page.goto(`${BASE_URL}/e/${ENTITY}`)
    await page.locator('[data-test=list-table] tbody tr').first().waitFor()
    await page.locator('[data-test=list-filter]').click()
    await page.locator('[data-test=filter-expression]').fill('stage == "planned"')
    await page.locator('[data-test=filter-apply]').click()
    await page.waitForURL(/filter=/)
    await waitIdle()
    await page.locator('[data-test=list-filter]').click() // fold the builder: the expression shows in one line
    await page.locator('[data-test=view-switcher]').click()
    await page.locator('[data-test=view-save-as]:visible').click()
    const dlg = page.locator('[data-test=view-dialog]')
    await dlg.locator('[data-test=view-name]').fill('E2E 计划中')
    await dlg.locator('[data-test=view-is-default]').click()
    await dlg.locator('[data-test=view-dialog-ok]').click()
    await page.waitForURL(/view=\d+/)
    const viewId = new URL(page.url()).searchParams.get('view')
    expect((await text('[data-test=view-current]')) === 'E2E 计划中', 'current view name')
    const saved = await api.call('GET', `/records/saved_views/${viewId}`)
    expect(saved.body.filter === 'stage == "planned"' && saved.body.is_default === true && saved.body.kind === 'list', `saved view: ${JSON.stringify(saved.body)}`)
    expect(Array.isArray(saved.body.columns) && saved.body.columns.includes('subject'), 'the view keeps the columns')
    // Switch to all records and back.
    await page.locator('[data-test=view-switcher]').click()
    await page.locator('[data-test=view-all]:visible').click()
    await page.waitForURL(/view=all/)
    expect(!new URL(page.url()).searchParams.get('filter'), 'all records has no filter')
    await page.locator('[data-test=view-switcher]').click()
    await page.locator('[data-test=view-item][data-name="E2E 计划中"] .vb-item:visible').click()
    await page.waitForURL(new RegExp(`view=${viewId}`))
    await page.locator('[data-test=list-filter-text]', { hasText: 'stage == "planned"' }).waitFor()
    // The default view opens when the entity is opened from navigation.
    await page.locator('[data-test=list-title]').click()
    await page.locator(`[data-test=nav-${ENTITY}]`).click()
    await page.waitForURL(new RegExp(`/e/${ENTITY}\\?.*view=${viewId}`))
    await page.locator('[data-test=list-filter-text]', { hasText: 'stage == "planned"' }).waitFor()
    await page.locator('[data-test=view-switcher]').click()
    await shot('views-zh-CN-desktop')
    // No longer the default: navigation opens all records again.
    await page.locator('[data-test=view-item][data-name="E2E 计划中"] [data-test=view-default]:visible').click()
    await page.waitForFunction(async (id) => {
      const r = await fetch(`/api/v1/records/saved_views/${id}`)
      return (await r.json()).is_default === false
    }, viewId)
    await page.keyboard.press('Escape')
  })

  await step('kanban: a drag the server accepts and one it refuses', async () => {
    const kid = (await mustCreate(ENTITY, { subject: 'E2E 看板卡片', stage: 'planned', amount: '5000' })).id
    await page.goto(`${BASE_URL}/e/${ENTITY}/kanban?group=stage&view=all`)
    await column('planned').locator('[data-test=kanban-card]', { hasText: 'E2E 看板卡片' }).waitFor()
    expect((await page.locator('[data-test=kanban-column]').count()) === 4, 'three options and "not set"')
    await dragTo(card('E2E 看板卡片'), column('visiting'))
    await column('visiting').locator('[data-test=kanban-card]', { hasText: 'E2E 看板卡片' }).waitFor()
    let rec = await api.call('GET', `/records/${ENTITY}/${kid}`)
    for (let i = 0; i < 20 && rec.body.stage !== 'visiting'; i++) {
      await page.waitForTimeout(100)
      rec = await api.call('GET', `/records/${ENTITY}/${kid}`)
    }
    expect(rec.body.stage === 'visiting' && rec.body.version === 2, `moved record: ${JSON.stringify(rec.body)}`)
    // "done" requires an outcome (required_if): the server answers 422.
    await dragTo(card('E2E 看板卡片'), column('done'))
    const err = page.locator('.el-message--error', { hasText: '拜访结果' })
    await err.waitFor()
    await column('visiting').locator('[data-test=kanban-card]', { hasText: 'E2E 看板卡片' }).waitFor()
    expect((await column('done').locator('[data-test=kanban-card]', { hasText: 'E2E 看板卡片' }).count()) === 0, 'refused card went back')
    rec = await api.call('GET', `/records/${ENTITY}/${kid}`)
    expect(rec.body.stage === 'visiting', 'the refused move changed nothing')
    await shot('kanban-zh-CN-desktop')
    // Save the board as a kanban view.
    await page.locator('[data-test=view-switcher]').click()
    await page.locator('[data-test=view-save-as]:visible').click()
    await page.locator('[data-test=view-dialog] [data-test=view-name]').fill('E2E 看板')
    await page.locator('[data-test=view-dialog] [data-test=view-dialog-ok]').click()
    await page.waitForURL(/\/kanban\?.*view=\d+/)
    const vid = new URL(page.url()).searchParams.get('view')
    const v = await api.call('GET', `/records/saved_views/${vid}`)
    expect(v.body.kind === 'kanban' && v.body.group_by === 'stage', `kanban view: ${JSON.stringify(v.body)}`)
  })

  await step('bulk: assign an owner, set a field with a per-record summary', async () => {
    const ids = []
    for (const n of ['一', '二']) ids.push((await mustCreate(ENTITY, { subject: `E2E 批量分配 ${n}`, stage: 'planned' })).id)
    await page.goto(`${BASE_URL}/e/${ENTITY}?view=all&q=${q('批量分配')}`)
    await page.locator('[data-test=list-table] tbody tr').nth(1).waitFor()
    await page.locator('[data-test=list-table] thead .el-checkbox').click()
    await page.locator('[data-test=bulk-owner]').click()
    const dlg = page.locator('[data-test=bulk-owner-dialog]')
    await dlg.locator('.el-select__wrapper').click()
    await page.keyboard.type(reps['rep.south'].name)
    await page.locator('.el-select-dropdown__item:visible', { hasText: reps['rep.south'].name }).first().click()
    await dlg.locator('[data-test=bulk-owner-ok]').click()
    await page.locator('.el-message--success', { hasText: '2' }).first().waitFor()
    for (const id of ids) {
      const r = await api.call('GET', `/records/${ENTITY}/${id}`)
      expect(r.body.owner === reps['rep.south'].id, `owner of ${id}: ${r.body.owner}`)
    }
    // Setting stage to "done" without an outcome fails for each: the summary says why.
    await page.locator('[data-test=list-table] tbody tr').nth(1).waitFor()
    await page.locator('[data-test=list-table] thead .el-checkbox').click()
    await page.locator('[data-test=bulk-set]').click()
    const sd = page.locator('[data-test=bulk-set-dialog]')
    await pickOption(sd.locator('[data-test=bulk-set-field]').locator('xpath=..'), '阶段')
    await pickOption(sd.locator('[data-test=bulk-set-value]'), '已完成')
    await sd.locator('[data-test=bulk-set-ok]').click()
    const res = page.locator('[data-test=bulk-result]')
    await res.locator('[data-test=bulk-failures]').waitFor()
    const summary = await res.innerText()
    expect(summary.includes('失败 2 条') && summary.includes('拜访结果'), `bulk summary: ${summary}`)
    await shot('bulk-zh-CN-desktop')
    await res.locator('[data-test=bulk-result-close]').click()
  })

  await step('detail: address cascade, files, timeline and related lists', async () => {
    await page.goto(`${BASE_URL}/e/${ENTITY}/${richId}/edit`)
    await page.locator('[data-field=site_address]').waitFor()
    await pickOption(page.locator('[data-test=address-province]'), '广东省')
    await pickOption(page.locator('[data-test=address-city]'), '深圳市')
    await pickOption(page.locator('[data-test=address-district]'), '南山区')
    await page.locator('[data-field=attachment] input[type=file]').setInputFiles({ name: 'e2e-纪要.txt', mimeType: 'text/plain', buffer: Buffer.from('visit notes') })
    await page.locator('[data-field=attachment] .file-link').waitFor()
    await page.locator('[data-test=form-save]').click()
    await page.waitForURL(new RegExp(`/e/${ENTITY}/${richId}$`))
    await page.locator('.detail', { hasText: '广东省深圳市南山区' }).waitFor()
    const rec = await api.call('GET', `/records/${ENTITY}/${richId}`)
    expect(rec.body.site_address?.district === '南山区', `address: ${JSON.stringify(rec.body.site_address)}`)
    await page.locator('.el-tabs__item', { hasText: '附件' }).click()
    await page.locator('[data-test=file-item]', { hasText: 'e2e-纪要.txt' }).waitFor()
    await page.locator('.el-tabs__item', { hasText: '动态' }).click()
    await page.locator('[data-test=timeline-item]').nth(1).waitFor()
    expect((await page.locator('[data-test=timeline]').innerText()).includes('现场地址'), 'timeline names the changed field')
    await shot('timeline-zh-CN-desktop')
    // A regional deal links to this visit: the related list shows it.
    await mustCreate(REGION_ENTITY, { name: 'E2E 关联商机', region: '华东', account: richId })
    await page.reload()
    await page.locator('.el-tabs__item', { hasText: '相关记录' }).click()
    const sec = page.locator(`[data-test=related-section][data-entity=${REGION_ENTITY}]`)
    await sec.locator('a', { hasText: 'E2E 关联商机' }).waitFor()
    await shot('related-zh-CN-desktop')
    await sec.locator('[data-test=related-all]').click()
    await page.waitForURL(new RegExp(`/e/${REGION_ENTITY}\\?`))
    await page.locator('[data-test=list-table] tbody tr', { hasText: 'E2E 关联商机' }).waitFor()
    expect((await page.locator('[data-test=list-table] tbody tr').count()) === 1, 'the full list keeps the filter')
  })

  await step('admin: a role made in the permission matrix gives a new user the entity', async () => {
    await page.goto(`${BASE_URL}/admin/roles`)
    await page.locator('[data-test=role-new]').click()
    await page.waitForURL(/\/admin\/roles\/new$/)
    const roleName = `e2e_viewer_${stamp}`
    await page.locator('[data-test=role-name]').fill(roleName)
    await page.locator('[data-test=role-display]').fill('E2E 访客')
    await page.locator('[data-test=role-search]').fill(ENTITY)
    const row = page.locator(`[data-test=role-row][data-entity=${ENTITY}]`).first()
    await row.locator('[data-test=role-read]').click()
    await pickOption(row.locator('[data-test=role-scope]').locator('xpath=..'), '自定义条件')
    const filterIn = page.locator('[data-test=role-filter]')
    await filterIn.fill('amount >')
    await page.locator('[data-test=role-filter-error]').waitFor()
    await filterIn.fill('amount >= 0 || amount == nil')
    await page.locator('.rm-filter-ok').waitFor()
    await row.locator('[data-test=role-fields]').click()
    const fd = page.locator('[data-test=role-fields-dialog]')
    await fd.locator('[data-field=amount] [data-test=fr-hidden]').click()
    await fd.locator('[data-test=role-fields-ok]').click()
    await shot('role-zh-CN-desktop')
    await page.locator('[data-test=role-save]').click()
    await page.waitForURL(/\/admin\/roles\/\d+$/)
    const roleId = page.url().split('/').pop()
    const role = await api.call('GET', `/records/roles/${roleId}`)
    const want = [{ entity: ENTITY, actions: ['read'], scope: 'filter', filter: 'amount >= 0 || amount == nil', hidden_fields: ['amount'] }]
    const canon = (v) => JSON.stringify(v, (k, x) => (x && typeof x === 'object' && !Array.isArray(x) ? Object.fromEntries(Object.entries(x).sort()) : x))
    expect(canon(role.body.permissions) === canon(want), `role permissions: ${JSON.stringify(role.body.permissions)}`)
    // A user with only this role, whose saved language is English.
    viewer = await mustCreate('users', { login: `e2e.viewer.${stamp}`, name: 'E2E 访客', roles: [roleId], language: 'en' })
    const pw = await api.call('POST', `/records/users/${viewer.id}/actions/set_password`, { password: 'viewer12345' })
    expect(pw.status < 300, `viewer password: HTTP ${pw.status}`)
    const vp = await newPage({ viewport: { width: 1280, height: 800 } })
    await vp.goto(BASE_URL + '/login')
    await login(vp, 'viewer12345', viewer.login)
    await vp.locator(`[data-test=nav-${ENTITY}]`).waitFor()
    await vp.waitForFunction(() => document.documentElement.lang === 'en')
    expect((await vp.locator(`[data-test=nav-${ENTITY}]`).innerText()).includes('Site visit'), 'the saved language applies at login')
    expect((await vp.locator('[data-test=nav-roles]').count()) === 0, 'no administration for the viewer')
    await vp.locator(`[data-test=nav-${ENTITY}]`).click()
    await vp.locator('[data-test=list-table] tbody tr').first().waitFor()
    const head = await vp.locator('[data-test=list-table] thead').innerText()
    expect(!head.includes('Expected amount'), `hidden field not in the viewer's list: ${head}`)
    await vp.context().close()
  })

  await step('admin: users (reset password, deactivate) and the department tree', async () => {
    await page.goto(`${BASE_URL}/e/users/${viewer.id}`)
    await page.locator('[data-test=user-reset-password]').click()
    const rd = page.locator('[data-test=reset-dialog]')
    await rd.locator('[data-test=reset-password]').fill('viewer-new-1')
    await rd.locator('[data-test=reset-confirm]').fill('viewer-new-1')
    await rd.locator('[data-test=reset-ok]').click()
    await page.locator('.el-message--success', { hasText: 'E2E 访客' }).first().waitFor()
    await page.locator('[data-test=user-deactivate]').click()
    await page.locator('.el-message-box .el-button--danger').click()
    await page.locator('[data-test=user-activate]').waitFor()
    const u = await api.call('GET', `/records/users/${viewer.id}`)
    expect(u.body.active === false, 'user deactivated')
    await page.goto(`${BASE_URL}/admin/departments`)
    await page.locator('[data-test=dept-add-root]').click()
    const dd = page.locator('[data-test=dept-dialog]')
    await dd.locator('[data-test=dept-name]').fill(`E2E 部门 ${stamp}`)
    await dd.locator('[data-test=dept-ok]').click()
    const node = page.locator(`[data-test="dept-E2E 部门 ${stamp}"]`)
    await node.waitFor()
    await node.hover()
    await node.locator('[data-test=dept-add-child]').click()
    await dd.locator('[data-test=dept-name]').fill(`E2E 下级 ${stamp}`)
    await dd.locator('[data-test=dept-ok]').click()
    await page.locator(`[data-test="dept-E2E 下级 ${stamp}"]`).waitFor()
    const child = await findOne('departments', `name == "E2E 下级 ${stamp}"`)
    const parent = await findOne('departments', `name == "E2E 部门 ${stamp}"`)
    expect(child.parent === parent.id, 'child department under its parent')
    await shot('departments-zh-CN-desktop')
  })

  await step('admin: create an API token, use it, revoke it', async () => {
    await page.goto(`${BASE_URL}/admin/tokens`)
    await page.locator('[data-test=token-new]').click()
    const td = page.locator('[data-test=token-dialog]')
    await td.locator('[data-test=token-name]').fill('E2E 令牌')
    await td.locator('[data-test="scope-records:write"]').click()
    await td.locator('[data-test=token-create]').click()
    const secretIn = page.locator('[data-test=token-created] [data-test=token-secret]')
    await secretIn.waitFor()
    const secret = await secretIn.inputValue()
    expect(secret.startsWith('tnn_'), `token: ${secret.slice(0, 6)}…`)
    await shot('token-zh-CN-desktop')
    const bearer = await request.newContext({ baseURL: BASE_URL, extraHTTPHeaders: { Authorization: `Bearer ${secret}` } })
    expect((await bearer.get(`/api/v1/records/${ENTITY}?per_page=1`)).status() === 200, 'the token reads records')
    await page.locator('[data-test=token-done]').click()
    const row = page.locator('[data-test=token-table] tr', { hasText: 'E2E 令牌' })
    await row.waitFor()
    await row.locator('[data-test=token-revoke]').click()
    await page.locator('.el-message-box .el-button--danger').click()
    await page.locator('.el-message--success', { hasText: 'E2E 令牌' }).first().waitFor()
    expect((await bearer.get(`/api/v1/records/${ENTITY}?per_page=1`)).status() === 401, 'a revoked token is refused')
    await bearer.dispose()
  })

  await step('a rep cannot find another region\'s record by list, q, search or URL', async () => {
    const rp = await newPage({ viewport: { width: 1280, height: 800 } })
    await rp.goto(BASE_URL + '/login')
    await login(rp, REP_PASSWORD, 'rep.south')
    await rp.locator(`[data-test=nav-${REGION_ENTITY}]`).click()
    await rp.locator('[data-test=list-table] tbody tr', { hasText: 'E2E 华南商机' }).waitFor()
    expect(!(await rp.locator('[data-test=list-table] tbody').innerText()).includes('华东机密'), 'list shows no 华东 record')
    await rp.goto(`${BASE_URL}/e/${REGION_ENTITY}?q=${q('机密')}`)
    await rp.locator('[data-test=list-table] [data-test=list-empty]').waitFor()
    await rp.locator('[data-test=global-search]').fill('机密商机')
    await rp.locator('[data-test=global-search]').press('Enter')
    await rp.waitForURL(/\/search\?q=/)
    await rp.waitForLoadState('networkidle')
    await rp.locator('.el-empty, [data-test=search-group]').first().waitFor()
    expect(!(await rp.locator('.tn-page').innerText()).includes('华东机密'), 'search finds no 华东 record')
    await rp.goto(`${BASE_URL}/e/${REGION_ENTITY}/${eastId}`)
    await rp.locator('.el-result', { hasText: '记录不存在或无权查看' }).waitFor()
    await rp.goto(`${BASE_URL}/e/${REGION_ENTITY}/${southId}`)
    await rp.locator('[data-test=detail-title]', { hasText: 'E2E 华南商机' }).waitFor()
    await rp.context().close()
  })

  await step('language switch to English', async () => {
    await page.goto(`${BASE_URL}/e/${ENTITY}`)
    await page.locator('[data-test=list-table] tbody tr').first().waitFor()
    await switchLanguage('en')
    await page.waitForFunction(() => document.querySelector('[data-test=list-title]')?.textContent?.trim() === 'Site visit')
    const head = await page.locator('[data-test=list-table] thead').innerText()
    expect(head.includes('Expected amount'), `English column labels: ${head}`)
    expect((await page.locator(`[data-test=nav-${ENTITY}]`).innerText()).includes('Site visit'), 'English navigation')
    const me = await api.call('GET', '/auth/me')
    expect(me.body.user.language === 'en', `the language is saved on the user: ${me.body.user.language}`)
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
    // Changing one's password needs the current one: a wrong one is shown on its field.
    await page.locator('[data-test=current-password]').fill('not-my-password')
    await page.locator('[data-test=new-password]').fill('another-password-1')
    await page.locator('[data-test=confirm-password]').fill('another-password-1')
    await page.locator('.profile .el-button--primary').click()
    const cur = page.locator('.el-form-item', { has: page.locator('[data-test=current-password]') }).locator('.el-form-item__error')
    await cur.waitFor()
    expect((await cur.innerText()).trim().length > 0, 'wrong current password on its field')
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
      // The UI takes the user's saved language at login unless one is picked on the login page.
      if (zh) await api.call('PATCH', `/records/users/${(await api.call('GET', '/auth/me')).body.user.id}`, { language: 'zh-CN' })
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
    await step(`phone ${lang}: kanban scrolls sideways, "move to" moves a card`, async () => {
      await page.goto(`${BASE_URL}/e/${ENTITY}/kanban?group=stage&view=all`)
      const c = card('E2E 看板卡片')
      await c.waitFor()
      await waitIdle()
      await noHorizontalOverflow('kanban')
      const board = await page.locator('[data-test=kanban-board]').evaluate((el) => ({ sw: el.scrollWidth, cw: el.clientWidth, snap: getComputedStyle(el).scrollSnapType }))
      expect(board.sw > board.cw && board.snap.includes('x'), `board scrolls with snap: ${JSON.stringify(board)}`)
      await shot(`kanban-${lang}-phone`)
      const from = zh ? 'visiting' : 'planned'
      const to = zh ? 'planned' : 'visiting'
      await column(from).locator('[data-test=kanban-card]', { hasText: 'E2E 看板卡片' }).waitFor()
      await c.locator('[data-test=kanban-move]').click()
      await page.locator(`[data-test=kanban-move-dialog] [data-test=kanban-move-to][data-value=${to}]`).click()
      await column(to).locator('[data-test=kanban-card]', { hasText: 'E2E 看板卡片' }).waitFor()
    })
    await step(`phone ${lang}: saved views and bulk actions on cards`, async () => {
      await page.goto(`${BASE_URL}/e/${ENTITY}?view=all`)
      await page.locator('[data-test=list-cards] [data-test=list-row]').first().waitFor()
      await page.locator('[data-test=view-switcher]').click()
      await page.locator('[data-test=view-item][data-name="E2E 计划中"] .vb-item:visible').click()
      await page.waitForURL(/view=\d+/)
      await page.locator('[data-test=list-filter-text]').waitFor()
      await waitIdle()
      const cards = page.locator('[data-test=list-cards] [data-test=list-row]')
      await cards.nth(1).waitFor()
      await cards.nth(0).locator('.el-checkbox').click()
      await cards.nth(1).locator('.el-checkbox').click()
      await page.locator('[data-test=bulk-owner]').click()
      await page.locator('[data-test=bulk-owner-dialog] .el-select__wrapper').waitFor()
      await noHorizontalOverflow('bulk dialog')
      await shot(`bulk-${lang}-phone`)
      await page.locator('[data-test=bulk-owner-dialog] .el-dialog__headerbtn').click()
    })
    await step(`phone ${lang}: detail tabs and administration screens`, async () => {
      await page.goto(`${BASE_URL}/e/${ENTITY}/${richId}`)
      await page.locator('[data-test=detail-title]').waitFor()
      await page.locator('.el-tabs__item', { hasText: zh ? '动态' : 'Timeline' }).click()
      await page.locator('[data-test=timeline-item]').first().waitFor()
      await noHorizontalOverflow('timeline')
      await shot(`timeline-${lang}-phone`, { full: true })
      for (const [path, sel, name] of [
        ['/admin/roles', '[data-test=role-row]', 'roles'],
        [`/admin/roles/${(await findOne('roles', `name == "e2e_viewer_${stamp}"`)).id}`, '[data-test=role-matrix]', 'role'],
        ['/admin/departments', '[data-test=dept-tree]', 'departments'],
        ['/admin/tokens', '[data-test=token-new]', 'tokens'],
        ['/e/users', '[data-test=list-cards] [data-test=list-row]', 'users'],
      ]) {
        await page.goto(BASE_URL + path)
        await page.locator(sel).first().waitFor()
        await waitIdle()
        await noHorizontalOverflow(name)
        await shot(`${name}-${lang}-phone`)
      }
    })
    await page.context().close()
  }

  await step('rich text: toolbar bold and list saved as HTML; unsafe HTML from the API is inert (desktop zh-CN, phone en)', async () => {
    const f = await api.call('POST', `/meta/entities/${ENTITY}/fields`, {
      name: 'notes',
      type: 'rich_text',
      label: { 'zh-CN': '纪要正文', en: 'Notes' },
    })
    expect(f.status === 201, `add rich_text field: HTTP ${f.status} ${JSON.stringify(f.body)}`)
    const bad = await mustCreate(ENTITY, {
      subject: 'E2E 富文本 XSS',
      notes: '<img src=x onerror=alert(1)><script>alert(2)</script><p>ok</p>',
    })
    for (const [lang, opts, device] of [
      ['zh-CN', { viewport: { width: 1366, height: 860 } }, 'desktop'],
      ['en', { viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true, deviceScaleFactor: 2 }, 'phone'],
    ]) {
      const zh = lang === 'zh-CN'
      if (zh) await api.call('PATCH', `/records/users/${(await api.call('GET', '/auth/me')).body.user.id}`, { language: 'zh-CN' })
      page = await newPage(opts)
      const dialogs = []
      page.on('dialog', (d) => {
        dialogs.push(`${d.type()}: ${d.message()}`)
        d.dismiss().catch(() => {})
      })
      await page.goto(BASE_URL + '/login')
      if (!zh) {
        await page.locator('[data-test="login-lang-en"]').click()
        await page.waitForFunction(() => document.documentElement.lang === 'en')
      }
      await login(page)
      await page.waitForURL((u) => !u.pathname.startsWith('/login'))
      await page.goto(`${BASE_URL}/e/${ENTITY}/new`)
      await page.locator('[data-test=record-form]').waitFor()
      const subject = `E2E 富文本 ${lang}`
      await page.locator('[data-field=subject] input').fill(subject)
      const box = page.locator('[data-field=notes]')
      const ed = box.locator('[data-test=rt-editor]')
      await ed.waitFor()
      expect((await ed.getAttribute('role')) === 'textbox' && (await ed.getAttribute('aria-multiline')) === 'true', 'editor role and aria-multiline')
      const boldBtn = box.locator('[data-test=rt-bold]')
      expect((await boldBtn.getAttribute('aria-label')) === (zh ? '加粗' : 'Bold'), `bold button label: ${await boldBtn.getAttribute('aria-label')}`)
      await ed.click()
      await page.keyboard.type(zh ? '重点客户' : 'Key account')
      await page.keyboard.press('ControlOrMeta+A')
      await boldBtn.click()
      expect((await boldBtn.getAttribute('aria-pressed')) === 'true', 'bold button pressed after making the text bold')
      await page.keyboard.press('End')
      await page.keyboard.press('Enter')
      await box.locator('[data-test=rt-ul]').click()
      await page.keyboard.type(zh ? '第一项' : 'First item')
      await page.keyboard.press('Enter')
      await page.keyboard.type(zh ? '第二项' : 'Second item')
      const html = await ed.innerHTML()
      expect(/<(b|strong)>/.test(html) && /<li>/.test(html), `editor HTML after bold and list: ${html}`)
      if (!zh) await noHorizontalOverflow('rich-text form')
      await box.scrollIntoViewIfNeeded()
      await shot(`rich-text-${lang}-${device}`)
      await page.locator('[data-test=form-save]').click()
      await page.waitForURL(new RegExp(`/e/${ENTITY}/\\d+$`))
      const shown = page.locator('[data-field=notes] [data-test=rich-value]')
      await shown.waitFor()
      const out = await shown.innerHTML()
      expect(/<strong>/.test(out) && /<li>/.test(out) && /<ul>/.test(out), `detail shows <strong> and <li>: ${out}`)
      const stored = await api.call('GET', `/records/${ENTITY}/${page.url().split('/').pop()}`)
      expect(/<strong>/.test(stored.body.notes) && !/style=|<p><br><\/p><ul>/.test(stored.body.notes), `stored HTML: ${stored.body.notes}`)
      await shot(`rich-text-detail-${lang}-${device}`, { full: true })
      // Unsafe HTML posted through the API: the server keeps only "<p>ok</p>".
      await page.goto(`${BASE_URL}/e/${ENTITY}/${bad.id}`)
      const v = page.locator('[data-field=notes] [data-test=rich-value]')
      await v.waitFor()
      await page.waitForFunction(() => document.querySelector('[data-field=notes] [data-test=rich-value]')?.textContent?.includes('ok'))
      await page.waitForTimeout(300) // an onerror would fire by now
      expect((await v.locator('script').count()) === 0, 'no script element inside the rendered value')
      expect((await v.locator('[onerror]').count()) === 0, 'no event handler inside the rendered value')
      expect(dialogs.length === 0, `dialogs opened: ${dialogs.join('; ')}`)
      await page.context().close()
    }
  })

  await step('no unexpected errors in the browser console', async () => {
    expect(consoleErrors.length === 0, `console errors:\n  ${consoleErrors.join('\n  ')}`)
  })

  console.log(`\n${run.passed} passed, 0 failed`)
  console.log(`screenshots: ${SHOTS_DIR}`)
} catch (e) {
  console.error(`FAIL ${run.current}: ${e.message}`)
  if (page) {
    await page.screenshot({ path: join(SHOTS_DIR, 'failure.png'), fullPage: true }).catch(() => {})
    console.error(`  url: ${page.url()}; screenshot: ${join(SHOTS_DIR, 'failure.png')}`)
  }
  console.log(`\n${run.passed} passed, 1 failed`)
  process.exitCode = 1
} finally {
  await api?.dispose().catch(() => {})
  await browser.close()
}
