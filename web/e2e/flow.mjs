// Browser tests of the approval flows against a running `tenon serve --demo`.
//
//   BASE_URL=http://127.0.0.1:8080 ADMIN_PASSWORD=... node e2e/flow.mjs
//
// Through the API: a custom entity of quotes with a max_discount percent
// field, read/write grants for the demo roles, and three quotes owned by
// rep.east. In the browser:
//   - as admin, design a two-level discount approval flow in the designer
//     (palette, edges drawn between handles, a condition branch
//     "max_discount > 10" and a default branch, approvers picked by name),
//     validate a broken draft (the server's reasons listed, each naming its
//     node by id in its field "graph.nodes.<id>", and those nodes
//     outlined), fix it, validate, publish (v1), see the versions;
//   - as rep.east, submit a 15 % quote: the record is locked (edit shows
//     the reason; the API answers 409 flow_record_locked), the Approvals tab
//     shows the steps; a 5 % quote takes the default branch and is approved
//     at once;
//   - as sales.manager, approve the 15 % quote in "My approvals" with a
//     comment and an attachment (pending → done, the count in the
//     navigation drops);
//   - as gm, reject it (pending → done); rep.east sees the rejection in the
//     record's Approvals and Timeline tabs, and the record unlocked;
//   - a 25 % quote: returned for changes by sales.manager, changed and
//     resubmitted by rep.east, approved by sales.manager from the record's
//     own Approvals tab, sent back to the first level by gm, approved again
//     by sales.manager;
//   - rep.east withdraws while gm has the task open: gm's approval shows
//     the server's 409 in the dialog and the screen catches up;
//   - gm adds sales.manager as an approver before them on one quote and
//     delegates another to them;
//   - the submit button shows only where the server says a flow applies
//     (can_submit): not on a quote whose flow is disabled;
//   - attachments carry their names in the API (no request per file) and
//     in the History tab, which shows flow entries readably;
//   - the inbox, the record panel and the designer in English and at phone
//     size (390×844: cards, actions reachable, no horizontal overflow).
// Screenshots (zh-CN and en, desktop and phone) go to SHOTS_DIR.
import * as lib from './lib.mjs'
import {
  must,
  resetLanguages,
  BASE_URL,
  DEMO_PASSWORD,
  SHOTS_DIR,
  apiSession,
  expect,
  finish,
  launch,
  newPage,
  noHorizontalOverflow,
  pickOption,
  requireConfig,
  shot,
  signIn,
  steps,
  switchLanguage,
} from './lib.mjs'

requireConfig('e2e/flow.mjs')

const stamp = Date.now().toString(36)
const ENTITY = `e2e_quotes_${stamp}`
const ENTITY_LABEL = { 'zh-CN': '折扣报价', en: 'Discount quotes' }
const FLOW_NAME = `两级折扣审批 ${stamp}`
const L1 = '一级审批（销售经理）'
const L2 = '二级审批（总经理）'

const st = steps()
const consoleErrors = []
/** HEAD requests for attachments: the screens must not need them (names come with the steps). */
const attachmentHeads = []

/** watchedPage is newPage that also notes HEAD requests for attachments. */
async function watchedPage(b, opts) {
  const p = await newPage(b, consoleErrors, opts)
  p.on('request', (r) => {
    if (r.method() === 'HEAD' && r.url().includes('/flow-attachments/')) attachmentHeads.push(r.url())
  })
  return p
}
let browser = null
let api = null
const users = {}
const quotes = {}
let flowId = null
let page = null

// ------------------------------------------------------------------ helpers

const findOne = (entity, filter) => lib.findOne(api, entity, filter)


/** grant adds a grant to a role (keeping its others). */
async function grant(roleName, g) {
  const role = await findOne('roles', `name == ${JSON.stringify(roleName)}`)
  expect(role, `role ${roleName} exists (run the server with --demo)`)
  const perms = [...(role.permissions ?? []).filter((p) => p.entity !== g.entity), g]
  await must(await api.call('PATCH', `/records/roles/${role.id}`, { permissions: perms }, { 'If-Match': `"${role.version}"` }), `grant ${roleName}`)
}

/** page helpers */
const byTest = (p, name) => p.locator(`[data-test=${name}]`)

async function gotoAndWait(p, path, sel) {
  await p.goto(BASE_URL + path)
  await p.locator(sel).first().waitFor()
}

/** dialogOk clicks the primary button of the message box that is open. */
async function confirmBox(p) {
  const box = p.locator('.el-message-box:visible')
  await box.waitFor()
  await box.locator('.el-button--primary, .el-button--danger').last().click()
  await box.waitFor({ state: 'hidden' })
}

/** canvasIdle waits until the designer's view has stopped moving (fit to view after an addition). */
async function canvasIdle(p) {
  await p.locator('[data-test=designer-canvas]:not([data-fitting])').waitFor()
}

/** handle returns the centre of a node's source (bottom) or target (top) handle. */
async function handleCenter(p, nodeId, kind) {
  const h = p.locator(`[data-test=flow-node][data-node="${nodeId}"]`).locator('xpath=..').locator(`.vue-flow__handle.${kind}`)
  const b = await h.boundingBox()
  expect(b, `handle ${kind} of ${nodeId} is on screen`)
  return { x: b.x + b.width / 2, y: b.y + b.height / 2 }
}

/** connect draws an edge from one node's lower handle to another's upper handle with the mouse. */
async function connect(p, from, to) {
  await canvasIdle(p)
  const before = await p.locator('.vue-flow__edge').count()
  const a = await handleCenter(p, from, 'source')
  const b = await handleCenter(p, to, 'target')
  await p.mouse.move(a.x, a.y)
  await p.mouse.down()
  await p.mouse.move((a.x + b.x) / 2, (a.y + b.y) / 2, { steps: 8 })
  await p.mouse.move(b.x, b.y, { steps: 8 })
  await p.mouse.up()
  await p.waitForFunction((n) => document.querySelectorAll('.vue-flow__edge').length === n, before + 1)
}

async function selectNode(p, nodeId) {
  await canvasIdle(p)
  await p.locator(`[data-test=flow-node][data-node="${nodeId}"]`).click()
  await p.locator(`[data-test=node-panel][data-node="${nodeId}"]`).waitFor()
}

/** pickUser types a name into a user picker (the select itself), chooses it and waits until the picker shows it. */
async function pickUser(p, select, name) {
  await select.locator('.el-select__wrapper').first().click()
  await p.keyboard.type(name)
  const item = p.locator('.el-select-dropdown__item:visible:not(.is-disabled)', { hasText: name }).first()
  await item.waitFor()
  // The remote search may still be replacing the options: wait until it has settled.
  await p.locator('.el-select-dropdown:visible .el-select-dropdown__loading').waitFor({ state: 'detached' }).catch(() => {})
  await item.click()
  await select.locator('.el-select__selected-item', { hasText: name }).first().waitFor()
}

/** inboxItem is the card of a record's title in the inbox's current box. */
const inboxItem = (p, title) => p.locator(`[data-test=inbox-item][data-title="${title}"]`)

/** act performs an approval action from the task buttons under scope. */
async function act(p, scope, action, comment, opts = {}) {
  if (['approve', 'reject', 'return'].includes(action) || (await scope.locator('[data-test=flow-more]').count()) === 0) {
    await scope.locator(`[data-test=flow-${action}]`).click()
  } else {
    await scope.locator('[data-test=flow-more]').click()
    await p.locator(`[data-test=flow-${action === 'add_approver' ? 'add-approver' : action}]:visible`).click()
  }
  const dlg = p.locator(`[data-test=flow-action-dialog][data-action=${action}]`)
  await dlg.waitFor()
  if (opts.rejectTo) await dlg.locator(`[data-test=flow-reject-to] .el-radio[data-node="${opts.rejectTo}"]`).click()
  if (comment) await dlg.locator('[data-test=flow-action-comment]').fill(comment)
  if (opts.file) {
    await dlg.locator('[data-test=flow-action-file]').setInputFiles(opts.file)
    await dlg.locator('[data-test=flow-action-file-item]').first().waitFor()
  }
  if (opts.beforeOk) await opts.beforeOk(dlg)
  await dlg.locator('[data-test=flow-action-ok]').click()
  if (opts.expectError) {
    const err = dlg.locator('[data-test=flow-action-error]')
    await err.waitFor()
    return (await err.innerText()).trim()
  }
  await dlg.waitFor({ state: 'hidden' })
  return ''
}

/** pendingCount is a user's number of pending approval tasks, through the API. */
async function pendingCount(login) {
  const s = await userSession(login)
  const n = (await must(await s.call('GET', '/approvals?box=pending&per_page=1'), 'pending box')).total
  await s.dispose()
  return n
}

/** navCount waits until the navigation's "My approvals" entry shows n (zh-CN). */
async function navCount(p, n) {
  const want = n > 0 ? `我的审批（${n}）` : '我的审批'
  await p.waitForFunction((w) => document.querySelector('[data-test=nav-approvals]')?.textContent?.trim() === w, want)
}

/** useLanguage switches the UI language unless it is already the one. */
async function useLanguage(p, lang) {
  if ((await p.evaluate(() => document.documentElement.lang)) !== lang) await switchLanguage(p, lang)
}

/** userSession signs a demo user in through the API. */
async function userSession(login) {
  return apiSession(login, DEMO_PASSWORD)
}

// ------------------------------------------------------------------ run

try {
  await st.step('API: a quotes entity with max_discount, grants, three quotes of rep.east', async () => {
    api = await apiSession()
    await resetLanguages(api)
    await must(
      await api.call('POST', '/meta/entities', {
        name: ENTITY,
        label: ENTITY_LABEL,
        module: 'sales',
        title_field: 'name',
        fields: [
          { name: 'name', type: 'text', label: { 'zh-CN': '报价名称', en: 'Quote' }, required: true, max_length: 200 },
          { name: 'customer', type: 'text', label: { 'zh-CN': '客户', en: 'Customer' } },
          { name: 'amount', type: 'money', label: { 'zh-CN': '报价金额', en: 'Amount' } },
          { name: 'max_discount', type: 'percent', label: { 'zh-CN': '最大折扣', en: 'Max discount' } },
          { name: 'approved', type: 'boolean', label: { 'zh-CN': '已审批', en: 'Approved' } },
          { name: 'note', type: 'long_text', label: { 'zh-CN': '说明', en: 'Note' } },
        ],
        views: [{ name: 'default', kind: 'list', columns: ['name', 'customer', 'amount', 'max_discount'] }],
      }),
      'create entity',
      201,
    )
    await grant('sales_rep', { entity: ENTITY, actions: ['read', 'create', 'update'], scope: 'own' })
    await grant('sales_manager', { entity: ENTITY, actions: ['read', 'update'], scope: 'all' })
    await grant('general_manager', { entity: ENTITY, actions: ['read', 'update'], scope: 'all' })
    for (const login of ['rep.east', 'sales.manager', 'gm']) {
      users[login] = await findOne('users', `login == ${JSON.stringify(login)}`)
      expect(users[login], `demo user ${login} exists (run the server with --demo)`)
    }
    await resetLanguages(api)
    const rep = await userSession('rep.east')
    for (const [key, name, discount, amount] of [
      ['a', `E2E 报价 A ${stamp}`, '15', '860000'],
      ['b', `E2E 报价 B ${stamp}`, '25', '1250000'],
      ['c', `E2E 报价 C ${stamp}`, '5', '99000'],
    ]) {
      quotes[key] = await must(await rep.call('POST', `/records/${ENTITY}`, { name, customer: '华东精密机械', amount, max_discount: discount }), `create quote ${key}`, 201)
    }
    await rep.dispose()
  })

  browser = await launch()
  page = await watchedPage(browser, { viewport: { width: 1440, height: 900 } })

  await st.step('admin: the flow list, a new flow opens in the designer with start → approval → end', async () => {
    await signIn(page)
    await byTest(page, 'nav-flows').click()
    await page.waitForURL(/\/admin\/flows$/)
    await byTest(page, 'flow-new').click()
    const dlg = byTest(page, 'flow-new-dialog')
    await dlg.waitFor()
    await dlg.locator('[data-test=flow-new-name]').fill(FLOW_NAME)
    await pickOption(page, dlg.locator('[data-test=flow-new-entity]').locator('xpath=..'), `(${ENTITY})`)
    await dlg.locator('[data-test=flow-new-ok]').click()
    await page.waitForURL(/\/admin\/flows\/\d+$/)
    flowId = page.url().split('/').pop()
    await page.locator('[data-test=flow-node]').nth(2).waitFor()
    const types = await page.locator('[data-test=flow-node]').evaluateAll((els) => els.map((e) => e.dataset.type))
    expect(JSON.stringify(types) === '["start","approval","end"]', `starter graph: ${types}`)
    expect((await page.locator('.vue-flow__edge').count()) === 2, 'starter graph has two edges')
    expect((await byTest(page, 'designer-title').innerText()).includes(FLOW_NAME), 'designer title')
  })

  await st.step('admin: add nodes from the palette; validation lists the reasons and outlines the nodes', async () => {
    // Dragged onto the canvas: a CC node where it is dropped; then deleted again.
    await canvasIdle(page)
    const canvas = byTest(page, 'designer-canvas')
    const box = await canvas.boundingBox()
    await byTest(page, 'palette-cc').dragTo(canvas, { targetPosition: { x: box.width - 160, y: box.height - 120 } })
    await page.locator('[data-test=node-panel][data-node=cc_1]').waitFor()
    await page.locator('[data-test=flow-node][data-node=cc_1]').waitFor()
    await byTest(page, 'node-delete').click()
    await page.locator('[data-test=flow-node][data-node=cc_1]').waitFor({ state: 'detached' })
    // Clicked: placed beside the graph.
    await byTest(page, 'palette-condition').click()
    await page.locator('[data-test=node-panel][data-node=condition_1]').waitFor()
    await byTest(page, 'palette-approval').click()
    await page.locator('[data-test=node-panel][data-node=approval_2]').waitFor()
    await byTest(page, 'designer-validate').click()
    await byTest(page, 'designer-problems').waitFor()
    const text = await byTest(page, 'designer-problems').innerText()
    expect(/审批 2/.test(text) && /无法到达|没有出口/.test(text), `problems name the new approval node: ${text}`)
    await page.locator('[data-test=flow-node][data-node=approval_2].has-problems').waitFor()
    await page.locator('[data-test=flow-node][data-node=condition_1].has-problems').waitFor()
    // Each problem names its node by id (field graph.nodes.<id>), not by label.
    const fields = await page.locator('[data-test=designer-problem]').evaluateAll((els) => els.map((e) => [e.dataset.field, e.dataset.nodes]))
    expect(fields.length > 0 && fields.every(([f, n]) => !f.startsWith('graph.nodes.') || f === `graph.nodes.${n}`), `problems' fields and nodes: ${JSON.stringify(fields)}`)
    expect(fields.some(([f]) => f === 'graph.nodes.approval_2') && fields.some(([f]) => f === 'graph.nodes.condition_1'), `problems at the new nodes: ${JSON.stringify(fields)}`)
    // A problem opens its node.
    await page.locator('[data-test=designer-problem][data-nodes=approval_2]').first().locator('a').click()
    await page.locator('[data-test=node-panel][data-node=approval_2] [data-test=node-problem]').first().waitFor()
    await shot(page, 'designer-problems-zh-CN-desktop')
  })

  await st.step('admin: draw the two-level discount flow with a condition branch and a default branch', async () => {
    // start → condition_1 instead of start → approval_1
    await selectNode(page, 'start')
    await page.locator('[data-test=node-edge][data-target=approval_1] [data-test=node-edge-delete]').click()
    await connect(page, 'start', 'condition_1')
    // The condition's first branch (to the end) is its default branch.
    await connect(page, 'condition_1', 'end')
    await page.locator('[data-test=edge-panel][data-edge=e_condition_1_end]').waitFor()
    expect(await page.locator('[data-test=edge-default]').evaluate((el) => el.classList.contains('is-checked')), 'first branch is the default')
    await connect(page, 'condition_1', 'approval_1')
    const ep = page.locator('[data-test=edge-panel][data-edge=e_condition_1_approval_1]')
    await ep.waitFor()
    await ep.locator('[data-test=edge-condition]').fill('max_discount > 10')
    // approval_1 → approval_2 → end
    await selectNode(page, 'approval_1')
    await page.locator('[data-test=node-edge][data-target=end] [data-test=node-edge-delete]').click()
    await connect(page, 'approval_1', 'approval_2')
    await connect(page, 'approval_2', 'end')
    // Level 1: sales.manager; level 2: gm.
    for (const [node, name, who] of [
      ['approval_1', L1, users['sales.manager'].name],
      ['approval_2', L2, users.gm.name],
    ]) {
      await selectNode(page, node)
      const panel = page.locator(`[data-test=node-panel][data-node=${node}]`)
      await panel.locator('[data-test=node-name]').fill(name)
      await pickOption(page, panel.locator('[data-test=approver-row]').first(), '指定成员')
      await pickUser(page, panel.locator('[data-test=approver-users]'), who)
      await page.locator(`[data-test=flow-node][data-node=${node}]`, { hasText: name }).waitFor()
    }
    await byTest(page, 'designer-dirty').waitFor()
    await byTest(page, 'designer-tidy').click()
    await canvasIdle(page)
  })

  await st.step('admin: save, validate, publish v1; the versions list shows it', async () => {
    await byTest(page, 'designer-save').click()
    await byTest(page, 'designer-dirty').waitFor({ state: 'hidden' })
    await byTest(page, 'designer-validate').click()
    await byTest(page, 'designer-valid').waitFor()
    expect((await page.locator('.has-problems').count()) === 0, 'no node outlined once valid')
    await byTest(page, 'designer-publish').click()
    await confirmBox(page)
    await page.locator('[data-test=designer-version]', { hasText: 'v1' }).waitFor()
    expect((await byTest(page, 'designer-status').innerText()).includes('已发布'), 'status published')
    expect((await byTest(page, 'designer-unpublished').count()) === 0, 'nothing left unpublished')
    const d = await must(await api.call('GET', `/records/flow_definitions/${flowId}`), 'get definition')
    expect(d.status === 'published' && d.published_version === 1, `definition: ${d.status} v${d.published_version}`)
    const types = Object.fromEntries(d.graph.nodes.map((n) => [n.id, n.type]))
    expect(types.condition_1 === 'condition' && types.approval_2 === 'approval', `saved graph: ${JSON.stringify(d.graph.nodes)}`)
    expect(d.graph.nodes.every((n) => n.position && typeof n.position.x === 'number'), 'node positions are saved')
    const branch = d.graph.edges.find((e) => e.from === 'condition_1' && e.to === 'approval_1')
    const def = d.graph.edges.find((e) => e.from === 'condition_1' && e.to === 'end')
    expect(branch?.condition === 'max_discount > 10' && def?.default === true, `branches: ${JSON.stringify(d.graph.edges)}`)
    const a1 = d.graph.nodes.find((n) => n.id === 'approval_1')
    expect(a1.name === L1 && JSON.stringify(a1.config.approvers) === JSON.stringify([{ kind: 'user', users: [users['sales.manager'].id] }]), `level 1: ${JSON.stringify(a1)}`)
    await page.locator('[data-test=flow-node][data-node=approval_1]').click()
    await shot(page, 'designer-zh-CN-desktop')
    await byTest(page, 'designer-versions').click()
    await page.locator('[data-test=version-item][data-version="1"]').waitFor()
    await shot(page, 'designer-versions-zh-CN-desktop')
    await page.keyboard.press('Escape')
    await page.locator('[data-test=version-item]').first().waitFor({ state: 'hidden' })
  })

  // ------------------------------------------------------ rep.east submits
  await page.context().close()
  page = await watchedPage(browser, { viewport: { width: 1366, height: 860 } })

  await st.step('rep.east: submit a 15 % quote; the record is locked and the Approvals tab shows the steps', async () => {
    await signIn(page, 'rep.east', DEMO_PASSWORD)
    await gotoAndWait(page, `/e/${ENTITY}/${quotes.a.id}`, '[data-test=detail-title]')
    await byTest(page, 'flow-submit').click()
    await confirmBox(page)
    await page.locator('[data-test=flow-record-alert][data-status=running]').waitFor()
    expect((await byTest(page, 'flow-record-alert').innerText()).includes(L1), 'the banner names the current step')
    // Edit is locked and says why.
    expect((await byTest(page, 'detail-edit').count()) === 0, 'no edit link on a locked record')
    await byTest(page, 'detail-edit-locked').click()
    await page.locator('.el-message--warning', { hasText: '审批中' }).first().waitFor()
    // The server refuses a change meanwhile, with the reason.
    const rep = await userSession('rep.east')
    const r = await rep.call('PATCH', `/records/${ENTITY}/${quotes.a.id}`, { customer: '改名' }, { 'If-Match': `"${quotes.a.version}"` })
    expect(r.status === 409 && r.body.code === 'flow_record_locked', `PATCH of a locked record: ${r.status} ${JSON.stringify(r.body)}`)
    await rep.dispose()
    // The Approvals tab: submitted, waiting for sales.manager at level 1.
    await byTest(page, 'flow-open-tab').click()
    const panel = byTest(page, 'flow-panel')
    await panel.locator('[data-test=flow-instance][data-status=running]').waitFor()
    await panel.locator('[data-test=flow-step][data-kind=submit]').waitFor()
    // Names are read after the steps: wait for them.
    await panel.locator('[data-test=flow-step-now]', { hasText: users['sales.manager'].name }).filter({ hasText: L1 }).waitFor()
    await shot(page, 'detail-approvals-zh-CN-desktop', { full: true })
  })

  await st.step('rep.east: a 5 % quote takes the default branch and is approved at once', async () => {
    await gotoAndWait(page, `/e/${ENTITY}/${quotes.c.id}`, '[data-test=detail-title]')
    await byTest(page, 'flow-submit').click()
    await confirmBox(page)
    await page.locator('.el-tabs__item', { hasText: '审批' }).click()
    await page.locator('[data-test=flow-instance][data-status=approved]').waitFor()
    const steps = await page.locator('[data-test=flow-panel] [data-test=flow-steps]').innerText()
    expect(steps.includes('默认分支'), `the log says the default branch was taken: ${steps}`)
    await byTest(page, 'detail-edit').waitFor()
  })

  // ------------------------------------------------ sales.manager approves
  await page.context().close()
  page = await watchedPage(browser, { viewport: { width: 1366, height: 860 } })

  await st.step('sales.manager: "My approvals" shows the quote; approve it with a comment and an attachment', async () => {
    const before = await pendingCount('sales.manager')
    expect(before >= 1, 'sales.manager has the quote to approve')
    await signIn(page, 'sales.manager', DEMO_PASSWORD)
    await navCount(page, before)
    await byTest(page, 'nav-approvals').click()
    await page.waitForURL(/\/approvals/)
    const card = inboxItem(page, quotes.a.name)
    await card.waitFor()
    expect((await card.innerText()).includes(L1), 'the card names the step')
    await card.click()
    const detail = page.locator(`[data-test=approval-detail]`)
    await detail.locator('[data-test=approval-record-summary]').waitFor()
    const summary = await detail.locator('[data-test=approval-record-summary]').innerText()
    expect(summary.includes('15') && summary.includes('华东精密机械'), `record summary: ${summary}`)
    await shot(page, 'inbox-zh-CN-desktop')
    await act(page, detail.locator('[data-test=approval-my-task]'), 'approve', '同意，折扣在可控范围，请总经理审批', {
      file: { name: '折扣测算.txt', mimeType: 'text/plain', buffer: Buffer.from('discount 15% margin 22%') },
    })
    await detail.locator('[data-test=approval-my-task][data-status=approved]').waitFor()
    await inboxItem(page, quotes.a.name).waitFor({ state: 'detached' })
    await navCount(page, before - 1)
    // The log shows the comment and the attachment.
    await detail.locator('[data-test=flow-step-comment]', { hasText: '请总经理审批' }).waitFor()
    await detail.locator('[data-test=flow-attachment]', { hasText: '折扣测算.txt' }).waitFor()
    // The API names the file ({id, name, size, content_type}); the screen asks for nothing per file.
    expect(attachmentHeads.length === 0, `HEAD requests for attachment names: ${attachmentHeads.join(', ')}`)
    {
      const mgr = await userSession('sales.manager')
      const inst = (await must(await mgr.call('GET', `/records/${ENTITY}/${quotes.a.id}/approvals`), 'approvals')).items[0]
      const att = inst.steps.find((x) => x.kind === 'approve')?.attachments?.[0]
      expect(att && att.name === '折扣测算.txt' && att.size === 23 && typeof att.id === 'string', `step attachment: ${JSON.stringify(att)}`)
      await mgr.dispose()
    }
    // Done by me.
    await byTest(page, 'inbox-tab-done').click()
    await page.waitForURL(/box=done/)
    await inboxItem(page, quotes.a.name).waitFor()
    expect((await inboxItem(page, quotes.a.name).innerText()).includes('已通过'), 'done card says approved')
  })

  await st.step('sales.manager: a decided task takes comments only; the API refuses a second decision (409)', async () => {
    await inboxItem(page, quotes.a.name).click()
    const detail = page.locator('[data-test=approval-detail]')
    await detail.locator('[data-test=approval-my-task][data-status=approved]').waitFor()
    // The API refuses a second decision on the task.
    const mgr = await userSession('sales.manager')
    const inbox = await must(await mgr.call('GET', '/approvals?box=done'), 'done box')
    const task = inbox.items.find((x) => x.record_id === quotes.a.id)
    const again = await mgr.call('POST', `/approvals/${task.id}/approve`, {})
    expect(again.status === 409 && again.body.code === 'flow_task_not_pending', `second approve: ${again.status} ${JSON.stringify(again.body)}`)
    await mgr.dispose()
    // A comment is still allowed on a done task.
    await act(page, detail.locator('[data-test=approval-my-task]'), 'comment', '补充：客户为三年老客户')
    await detail.locator('[data-test=flow-step][data-kind=comment]', { hasText: '三年老客户' }).waitFor()
  })

  // ------------------------------------------------------------ gm rejects
  await page.context().close()
  page = await watchedPage(browser, { viewport: { width: 1366, height: 860 } })

  await st.step('gm: reject the quote at level 2 (pending → done)', async () => {
    await signIn(page, 'gm', DEMO_PASSWORD)
    await gotoAndWait(page, '/approvals', '[data-test=inbox-list], [data-test=inbox-empty]')
    const card = inboxItem(page, quotes.a.name)
    await card.waitFor()
    expect((await card.innerText()).includes(L2), 'the card names level 2')
    await card.click()
    const detail = page.locator('[data-test=approval-detail]')
    // Level 1 is a step the flow passed: a rejection may go back to it.
    await act(page, detail.locator('[data-test=approval-my-task]'), 'reject', '折扣过高，不同意', {
      beforeOk: async (dlg) => {
        await dlg.locator('[data-test=flow-reject-to] .el-radio[data-node=approval_1]').waitFor()
      },
    })
    await detail.locator('[data-test=approval-instance-status]', { hasText: '已驳回' }).waitFor()
    await inboxItem(page, quotes.a.name).waitFor({ state: 'detached' })
    await byTest(page, 'inbox-tab-done').click()
    await inboxItem(page, quotes.a.name).waitFor()
    expect((await inboxItem(page, quotes.a.name).innerText()).includes('已驳回'), 'done card says rejected')
  })

  // ------------------------------------------- rep.east sees the outcome
  await page.context().close()
  page = await watchedPage(browser, { viewport: { width: 1366, height: 860 } })

  await st.step('rep.east: the record shows the rejection in its Approvals and Timeline tabs, and is unlocked', async () => {
    await signIn(page, 'rep.east', DEMO_PASSWORD)
    await gotoAndWait(page, `/e/${ENTITY}/${quotes.a.id}`, '[data-test=detail-title]')
    await byTest(page, 'detail-edit').waitFor()
    expect((await byTest(page, 'flow-record-alert').count()) === 0, 'no banner once the flow ended')
    await page.locator('.el-tabs__item', { hasText: '审批' }).click()
    const panel = byTest(page, 'flow-panel')
    await panel.locator('[data-test=flow-instance][data-status=rejected]').waitFor()
    await panel.locator('[data-test=flow-step][data-kind=reject]', { hasText: users.gm.name }).waitFor()
    const log = await panel.locator('[data-test=flow-steps]').innerText()
    for (const s of [users['sales.manager'].name, users.gm.name, '请总经理审批', '折扣过高', '折扣测算.txt']) expect(log.includes(s), `the log has "${s}": ${log}`)
    await shot(page, 'detail-rejected-zh-CN-desktop', { full: true })
    await page.locator('.el-tabs__item', { hasText: '动态' }).click()
    await page.locator('[data-test=timeline-flow]').first().waitFor()
    const tl = await byTest(page, 'timeline').innerText()
    for (const s of ['审批通过', '驳回了审批', '折扣过高', FLOW_NAME]) expect(tl.includes(s), `the timeline has "${s}": ${tl}`)
    await shot(page, 'timeline-zh-CN-desktop', { full: true })
    // The History tab shows the flow's entries in words, with the attachment's name, not raw keys.
    await page.locator('.el-tabs__item', { hasText: '修改记录' }).click()
    const hist = byTest(page, 'history')
    await hist.locator('[data-test=timeline-flow]').first().waitFor()
    await hist.locator('[data-test=flow-audit-attachment]', { hasText: '折扣测算.txt' }).waitFor()
    const ht = await hist.innerText()
    for (const s of ['驳回了审批', FLOW_NAME, L1]) expect(ht.includes(s), `the history has "${s}": ${ht}`)
    expect(!/flow_node|flow_comment|flow_attachments/.test(ht), `raw flow keys in the history: ${ht}`)
    await shot(page, 'history-flow-zh-CN-desktop', { full: true })
  })

  // ----------------------------------------- the 25 % quote: return, resubmit…
  await st.step('rep.east: submit the 25 % quote', async () => {
    await gotoAndWait(page, `/e/${ENTITY}/${quotes.b.id}`, '[data-test=detail-title]')
    await byTest(page, 'flow-submit').click()
    await confirmBox(page)
    await page.locator('[data-test=flow-record-alert][data-status=running]').waitFor()
  })

  const mgrPage = await watchedPage(browser, { viewport: { width: 1366, height: 860 } })
  await st.step('sales.manager: return the 25 % quote for changes', async () => {
    await signIn(mgrPage, 'sales.manager', DEMO_PASSWORD)
    await gotoAndWait(mgrPage, '/approvals', '[data-test=approvals-inbox]')
    await inboxItem(mgrPage, quotes.b.name).click()
    const detail = mgrPage.locator('[data-test=approval-detail]')
    await act(mgrPage, detail.locator('[data-test=approval-my-task]'), 'return', '请把折扣降到 20% 以内再提交')
    await detail.locator('[data-test=approval-instance-status]', { hasText: '退回修改中' }).waitFor()
  })

  await st.step('rep.east: the returned quote may be changed by its submitter, then submitted again', async () => {
    await page.reload()
    await page.locator('[data-test=flow-record-alert][data-status=returned]').waitFor()
    expect((await byTest(page, 'flow-record-alert').innerText()).includes('退回给你修改'), 'the banner says it came back to me')
    await byTest(page, 'detail-edit').click()
    await page.waitForURL(/\/edit$/)
    await page.locator('[data-field=max_discount] input').fill('18')
    await page.locator('[data-test=form-save]').click()
    await page.waitForURL(new RegExp(`/e/${ENTITY}/${quotes.b.id}$`))
    await page.locator('[data-field=max_discount]', { hasText: '18' }).waitFor()
    await byTest(page, 'flow-resubmit').click()
    await confirmBox(page)
    await page.locator('[data-test=flow-record-alert][data-status=running]').waitFor()
    await byTest(page, 'detail-edit-locked').waitFor()
  })

  await st.step('sales.manager: approve from the record\'s own Approvals tab', async () => {
    await gotoAndWait(mgrPage, `/e/${ENTITY}/${quotes.b.id}`, '[data-test=detail-title]')
    await mgrPage.locator('[data-test=flow-record-alert]', { hasText: '轮到你审批' }).waitFor()
    await byTest(mgrPage, 'flow-open-tab').click()
    const mine = mgrPage.locator('[data-test=flow-my-task]')
    await act(mgrPage, mine, 'approve', '已降到 18%，同意')
    await mine.waitFor({ state: 'detached' })
    await mgrPage.locator('[data-test=flow-panel] [data-test=flow-step-now]', { hasText: users.gm.name }).filter({ hasText: L2 }).waitFor()
    const log = await mgrPage.locator('[data-test=flow-panel] [data-test=flow-steps]').innerText()
    expect(log.includes('退回修改') && log.includes('修改后重新提交'), `the log has the return and the resubmission: ${log}`)
  })

  const gmPage = await watchedPage(browser, { viewport: { width: 1366, height: 860 } })
  await st.step('gm: send the quote back to level 1; sales.manager has it again', async () => {
    await signIn(gmPage, 'gm', DEMO_PASSWORD)
    await gotoAndWait(gmPage, '/approvals', '[data-test=approvals-inbox]')
    await inboxItem(gmPage, quotes.b.name).click()
    const detail = gmPage.locator('[data-test=approval-detail]')
    await act(gmPage, detail.locator('[data-test=approval-my-task]'), 'reject', '请一级再核实客户信用', { rejectTo: 'approval_1' })
    await detail.locator('[data-test=approval-task-status]', { hasText: '已驳回' }).waitFor()
    await detail.locator('[data-test=approval-instance-status]', { hasText: '审批中' }).waitFor()
    await gotoAndWait(mgrPage, '/approvals', '[data-test=approvals-inbox]')
    await inboxItem(mgrPage, quotes.b.name).click()
    const md = mgrPage.locator('[data-test=approval-detail]')
    await md.locator('[data-test=flow-step][data-kind=reject]', { hasText: L1 }).waitFor()
    await act(mgrPage, md.locator('[data-test=approval-my-task]'), 'approve', '信用已核实')
  })

  await st.step('rep.east withdraws while gm looks at the task: gm\'s approval shows the server\'s 409', async () => {
    await gotoAndWait(gmPage, '/approvals', '[data-test=approvals-inbox]')
    await inboxItem(gmPage, quotes.b.name).click()
    const detail = gmPage.locator('[data-test=approval-detail]')
    await detail.locator('[data-test=approval-my-task][data-status=pending]').waitFor()
    // rep.east withdraws in their own browser.
    await page.reload()
    await byTest(page, 'flow-withdraw').click()
    const box = page.locator('.el-message-box:visible')
    await box.locator('textarea').fill('客户改为下月再谈')
    await confirmBox(page)
    await page.locator('[data-test=flow-record-alert]').waitFor({ state: 'detached' })
    await byTest(page, 'detail-edit').waitFor()
    // gm's screen still offers the task: the server refuses it and says why.
    const msg = await act(gmPage, detail.locator('[data-test=approval-my-task]'), 'approve', '同意', { expectError: true })
    expect(/不能处理|不在进行中/.test(msg), `409 shown in the dialog: ${msg}`)
    await shot(gmPage, 'inbox-conflict-zh-CN-desktop')
    // Behind the dialog the screen already shows where the flow stands.
    await detail.locator('[data-test=approval-instance-status]', { hasText: '已撤回' }).waitFor()
    await gmPage.keyboard.press('Escape')
    await inboxItem(gmPage, quotes.b.name).waitFor({ state: 'detached' })
  })
  await mgrPage.context().close()

  // ------------------------------------------------------------- English
  await st.step('en (desktop): the inbox and the record\'s approvals in English', async () => {
    await useLanguage(gmPage, 'en')
    await gotoAndWait(gmPage, '/approvals?box=done', '[data-test=inbox-item]')
    expect((await byTest(gmPage, 'inbox-tab-done').innerText()).includes('Done by me'), 'English tab label')
    await inboxItem(gmPage, quotes.a.name).click()
    const detail = gmPage.locator('[data-test=approval-detail]')
    await detail.locator('[data-test=approval-instance-status]', { hasText: 'Rejected' }).waitFor()
    const log = await detail.locator('[data-test=flow-steps]').innerText()
    expect(log.includes('submitted for approval') && log.includes('approved'), `English log: ${log}`)
    await shot(gmPage, 'inbox-en-desktop')
    await gotoAndWait(gmPage, `/e/${ENTITY}/${quotes.a.id}`, '[data-test=detail-title]')
    await gmPage.locator('.el-tabs__item', { hasText: 'Approvals' }).click()
    await gmPage.locator('[data-test=flow-instance][data-status=rejected]').waitFor()
    await shot(gmPage, 'detail-approvals-en-desktop', { full: true })
    await gmPage.locator('.el-tabs__item', { hasText: 'Timeline' }).click()
    await gmPage.locator('[data-test=timeline-flow]').first().waitFor()
    expect((await byTest(gmPage, 'timeline').innerText()).includes('rejected the approval'), 'English timeline')
  })
  await gmPage.context().close()

  await st.step('en (desktop): the flow list and the designer in English', async () => {
    await page.context().close()
    page = await watchedPage(browser, { viewport: { width: 1440, height: 900 } })
    await signIn(page)
    await useLanguage(page, 'en')
    await gotoAndWait(page, '/admin/flows', `[data-test=flow-item][data-name="${FLOW_NAME}"]`)
    expect((await page.locator('[data-test=flow-list]').innerText()).includes('Approval flows'), 'English list title')
    await shot(page, 'flows-en-desktop')
    await page.locator(`[data-test=flow-item][data-name="${FLOW_NAME}"] .fl-link`).click()
    await page.locator('[data-test=flow-node][data-node=approval_2]').waitFor()
    await canvasIdle(page)
    await selectNode(page, 'condition_1')
    expect((await byTest(page, 'designer-palette').innerText()).includes('Parallel split'), 'English palette')
    await shot(page, 'designer-en-desktop')
    await useLanguage(page, 'zh-CN')
  })

  // ---------------------------------------------------------------- phones
  await st.step('API: two more quotes in approval for the phone screens', async () => {
    const rep = await userSession('rep.east')
    for (const [key, name, discount] of [
      ['d', `E2E 报价 D ${stamp}`, '12'],
      ['e', `E2E 报价 E ${stamp}`, '14'],
    ]) {
      quotes[key] = await must(await rep.call('POST', `/records/${ENTITY}`, { name, customer: '华南注塑', amount: '520000', max_discount: discount }), `create quote ${key}`, 201)
      const inst = await must(await rep.call('POST', `/records/${ENTITY}/${quotes[key].id}/submit`), `submit quote ${key}`, 201)
      expect(inst.status === 'running' && inst.current[0]?.id === 'approval_1', `quote ${key} waits at level 1: ${JSON.stringify(inst.current)}`)
    }
    await rep.dispose()
  })

  const phone = { viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true, deviceScaleFactor: 2 }
  for (const [lang, key] of [
    ['zh-CN', 'd'],
    ['en', 'e'],
  ]) {
    await st.step(`phone ${lang}: the inbox as cards; open one and approve it`, async () => {
      if (page) await page.context().close()
      page = await watchedPage(browser, phone)
      await signIn(page, 'sales.manager', DEMO_PASSWORD)
      await useLanguage(page, lang)
      await gotoAndWait(page, '/approvals', '[data-test=inbox-item]')
      expect((await byTest(page, 'approval-detail').count()) === 0, 'on a phone the list comes alone')
      await noHorizontalOverflow(page, `inbox ${lang}`)
      await shot(page, `inbox-${lang}-phone`)
      await inboxItem(page, quotes[key].name).click()
      const detail = byTest(page, 'approval-detail')
      await detail.locator('[data-test=approval-record-summary]').waitFor()
      expect(!(await byTest(page, 'inbox-list').isVisible()), 'on a phone the opened item comes alone')
      await noHorizontalOverflow(page, `inbox item ${lang}`)
      await shot(page, `inbox-item-${lang}-phone`, { full: true })
      await act(page, detail.locator('[data-test=approval-my-task]'), 'approve', lang === 'en' ? 'OK from my phone' : '手机上同意')
      await detail.locator('[data-test=approval-my-task][data-status=approved]').waitFor()
      await byTest(page, 'inbox-back').click()
      await inboxItem(page, quotes[key].name).waitFor({ state: 'detached' })
    })

    await st.step(`phone ${lang}: the record's approvals tab`, async () => {
      await page.context().close()
      page = await watchedPage(browser, phone)
      await signIn(page, 'rep.east', DEMO_PASSWORD)
      await useLanguage(page, lang)
      await gotoAndWait(page, `/e/${ENTITY}/${quotes[key].id}`, '[data-test=detail-title]')
      await page.locator('[data-test=flow-record-alert][data-status=running]').waitFor()
      await byTest(page, 'flow-open-tab').click()
      await page.locator('[data-test=flow-panel] [data-test=flow-step][data-kind=approve]').waitFor()
      await noHorizontalOverflow(page, `record approvals ${lang}`)
      await shot(page, `detail-approvals-${lang}-phone`, { full: true })
    })

    await st.step(`phone ${lang}: the designer shows the flow without breaking the layout`, async () => {
      await page.context().close()
      page = await watchedPage(browser, phone)
      await signIn(page)
      await useLanguage(page, lang)
      await gotoAndWait(page, `/admin/flows/${flowId}`, '[data-test=flow-node][data-node=approval_2]')
      await canvasIdle(page)
      await noHorizontalOverflow(page, `designer ${lang}`)
      await shot(page, `designer-${lang}-phone`)
      await selectNode(page, 'approval_1')
      await page.locator('[data-test=node-panel][data-node=approval_1]').scrollIntoViewIfNeeded()
      await shot(page, `designer-panel-${lang}-phone`)
      await useLanguage(page, 'zh-CN')
    })
  }
  await resetLanguages(api)

  await st.step('gm: add an approver before them on one quote, delegate the other; sales.manager gets both', async () => {
    await page.context().close()
    page = await watchedPage(browser, { viewport: { width: 1366, height: 860 } })
    await signIn(page, 'gm', DEMO_PASSWORD)
    await gotoAndWait(page, '/approvals', '[data-test=approvals-inbox]')
    const detail = page.locator('[data-test=approval-detail]')
    await inboxItem(page, quotes.d.name).click()
    await act(page, detail.locator('[data-test=approval-my-task]'), 'add_approver', '请销售经理先确认交期', {
      beforeOk: async (dlg) => pickUser(page, dlg.locator('[data-test=flow-add-user]'), users['sales.manager'].name),
    })
    await detail.locator('[data-test=approval-my-task][data-status=waiting]').waitFor()
    await inboxItem(page, quotes.e.name).click()
    await detail.locator(`[data-test=approval-detail-title]`, { hasText: quotes.e.name }).waitFor()
    await act(page, detail.locator('[data-test=approval-my-task]'), 'delegate', '出差中，请李经理代批', {
      beforeOk: async (dlg) => pickUser(page, dlg.locator('[data-test=flow-delegate-user]'), users['sales.manager'].name),
    })
    await detail.locator('[data-test=approval-my-task][data-status=delegated]').waitFor()
    await detail.locator('[data-test=flow-step][data-kind=delegate]', { hasText: users['sales.manager'].name }).waitFor()
    const mgr = await userSession('sales.manager')
    const pending = await must(await mgr.call('GET', '/approvals?box=pending'), 'pending box')
    await mgr.dispose()
    const titles = pending.items.map((x) => x.title)
    expect(titles.includes(quotes.d.name) && titles.includes(quotes.e.name), `sales.manager's pending box: ${titles}`)
    const added = pending.items.find((x) => x.title === quotes.d.name)
    expect(added.origin === 'before', `added approver's task: ${JSON.stringify(added)}`)
  })

  await st.step('a disabled flow applies to nothing: no submit button, can_submit false, the API refuses (409)', async () => {
    await page.context().close()
    page = await watchedPage(browser, { viewport: { width: 1366, height: 860 } })
    const rep = await userSession('rep.east')
    const before = await must(await rep.call('GET', `/records/${ENTITY}/${quotes.c.id}/approvals`), 'approvals before')
    expect(before.can_submit === true && before.submit_flow?.name === FLOW_NAME, `can_submit while published: ${JSON.stringify({ c: before.can_submit, f: before.submit_flow })}`)
    await signIn(page)
    await gotoAndWait(page, `/admin/flows/${flowId}`, '[data-test=flow-node][data-node=approval_2]')
    await byTest(page, 'designer-disable').click()
    await page.locator('[data-test=designer-status]', { hasText: '已停用' }).waitFor()
    const after = await must(await rep.call('GET', `/records/${ENTITY}/${quotes.c.id}/approvals`), 'approvals after')
    expect(after.can_submit === false && after.submit_flow === null, `can_submit while disabled: ${JSON.stringify({ c: after.can_submit, f: after.submit_flow })}`)
    const r = await rep.call('POST', `/records/${ENTITY}/${quotes.c.id}/submit`, {})
    expect(r.status === 409 && r.body.code === 'flow_none_applies', `submit with the flow disabled: ${r.status} ${JSON.stringify(r.body)}`)
    await rep.dispose()
    const repPage = await watchedPage(browser, { viewport: { width: 1366, height: 860 } })
    await signIn(repPage, 'rep.east', DEMO_PASSWORD)
    await gotoAndWait(repPage, `/e/${ENTITY}/${quotes.c.id}`, '[data-test=detail-title]')
    await byTest(repPage, 'detail-edit').waitFor()
    // The approvals have loaded (the tab shows the earlier instance) and no submit button is offered.
    await repPage.locator('.el-tabs__item', { hasText: '审批' }).click()
    await repPage.locator('[data-test=flow-instance][data-status=approved]').waitFor()
    expect((await byTest(repPage, 'flow-submit').count()) === 0, 'no submit button where no flow applies')
    await shot(repPage, 'detail-no-flow-zh-CN-desktop')
    await repPage.context().close()
    await byTest(page, 'designer-enable').click()
    await page.locator('[data-test=designer-status]', { hasText: '已发布' }).waitFor()
  })
} catch (err) {
  // The screen at the moment of failure helps more than the message alone.
  if (page) await page.screenshot({ path: `${SHOTS_DIR}/FAILED.png`, fullPage: true }).catch(() => {})
  await finish(st, browser, err, consoleErrors)
}
if (consoleErrors.length) await finish(st, browser, new Error('browser console errors:\n  ' + consoleErrors.join('\n  ')))
await finish(st, browser, null)
if (api) await api.dispose()
