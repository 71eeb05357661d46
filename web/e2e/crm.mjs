// Browser test of lead to opportunity (crm, leadpool) against a running
// `tenon serve --demo`.
//
//   BASE_URL=http://127.0.0.1:8080 ADMIN_PASSWORD=... node e2e/crm.mjs
//
// As rep.east (demo password) on a phone-sized screen (390×844):
//   - the business-card screen: a generated PNG is uploaded as the card,
//     the company, contact, phone and region entered; the lead is created
//     with the card image and source business_card; its owner is the rep
//     (a lead entered by a rep is theirs: the demo's assignment rules route
//     only leads that nobody took on), shown on the lead's page;
//   - the generic new-lead form warns of a duplicate while the company is
//     typed (the crm extension of the record screens); it shows no section
//     that has nothing to enter (read-only fields, empty on a new lead);
//   - /crm/checkin?lead=… with geolocation granted: located, a photo
//     added; the visit is saved as an activity with its location and
//     photo, and the lead's last follow-up is set;
//   - the lead's "Convert" dialog makes the account, the contact and an
//     opportunity (name, amount); the links to them are shown; the
//     account's 360° page lists the opportunity with its stage's name;
//     no horizontal overflow.
// As admin (1366×860): the customer group of the navigation starts with
// the lists a sales team works (leads, the pool, accounts, contacts,
// activities) and ends with the set-up, each screen once; a decision
// maker is added to the account (API); the account's page links to the
// 360° page (and offers Regrade), which shows the decision chain with both
// contacts and their roles, and the stage's name (its English name in
// English); the
// converted lead's edit form still shows its read-only conversion. A lead that
// rep.east2 returns (API, with a reason) lands in the 华东 pool; rep.east
// claims it on the pool screen and it becomes theirs.
// Screenshots go to SHOTS_DIR (crm-*.png); any unexpected browser console
// error fails the run.
import { deflateSync } from 'node:zlib'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import {
  BASE_URL,
  DEMO_PASSWORD,
  SHOTS_DIR,
  apiSession,
  expect,
  runScript,
  findOne,
  launch,
  must,
  newPage,
  noHorizontalOverflow,
  pickOption,
  requireConfig,
  resetLanguages,
  shot,
  signIn,
  steps,
  switchLanguage,
} from './lib.mjs'

requireConfig('e2e/crm.mjs')

const stamp = Date.now().toString(36)
const DESKTOP = { viewport: { width: 1366, height: 860 } }
const GEO = { latitude: 31.2304, longitude: 121.4737, accuracy: 25 }
const PHONE = {
  viewport: { width: 390, height: 844 },
  isMobile: true,
  hasTouch: true,
  deviceScaleFactor: 2,
  permissions: ['geolocation'],
  geolocation: GEO,
}
const REP = 'rep.east'
const COMPANY = `苏州名片测试机械有限公司 ${stamp}`
const PHONE_NO = `139${String(Date.now()).slice(-8)}`

/** A small solid-colour PNG (w×h, RGB), written to SHOTS_DIR. */
function png(name, w, h, rgb) {
  const crcTable = Array.from({ length: 256 }, (_, n) => {
    let c = n
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1
    return c >>> 0
  })
  const crc = (buf) => {
    let c = 0xffffffff
    for (const b of buf) c = crcTable[(c ^ b) & 0xff] ^ (c >>> 8)
    return (c ^ 0xffffffff) >>> 0
  }
  const chunk = (type, data) => {
    const len = Buffer.alloc(4)
    len.writeUInt32BE(data.length)
    const td = Buffer.concat([Buffer.from(type), data])
    const c = Buffer.alloc(4)
    c.writeUInt32BE(crc(td))
    return Buffer.concat([len, td, c])
  }
  const ihdr = Buffer.alloc(13)
  ihdr.writeUInt32BE(w, 0)
  ihdr.writeUInt32BE(h, 4)
  ihdr.set([8, 2, 0, 0, 0], 8)
  const row = Buffer.concat([Buffer.from([0]), Buffer.alloc(w * 3).map((_, i) => rgb[i % 3])])
  const raw = Buffer.concat(Array.from({ length: h }, () => row))
  const file = Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr),
    chunk('IDAT', deflateSync(raw)),
    chunk('IEND', Buffer.alloc(0)),
  ])
  const path = join(SHOTS_DIR, name)
  writeFileSync(path, file)
  return path
}

const st = steps()
const consoleErrors = []
let browser = null
let api = null
let repApi = null
let phone = null
let page = null

/** An ElInput's native input (its data-test lands on the input itself). */
const inp = (t) => `input[data-test=${t}], textarea[data-test=${t}], [data-test=${t}] input`

/** formSections lists the sections of the record form on p: title, and whether any field takes input. */
const formSections = (p) =>
  p.locator('[data-test=record-form] .form-section').evaluateAll((els) =>
    els.map((el) => ({
      title: el.querySelector('.form-section-title')?.textContent?.trim() ?? '',
      input: !!el.querySelector('input:not([disabled]), textarea:not([disabled]), button:not([disabled])'),
    })),
  )

/** stageNameOf is the stage (name, name_en) the opportunity's pipeline gives it. */
async function stageNameOf(api, opportunityId) {
  const o = must(await api.call('GET', `/records/opportunities/${opportunityId}`), 'read the opportunity', 200)
  const p = must(await api.call('GET', `/records/pipelines/${o.pipeline}`), 'read its pipeline', 200)
  const st = p.stages.find((x) => x.code === o.stage)
  expect(st && st.name && st.name !== st.code && st.name_en, `stage ${o.stage} of pipeline ${JSON.stringify(p.stages)}`)
  return st
}

/** stageShown is the stage text of the 360° page's only opportunity. */
async function stageShown(p) {
  const el = p.locator('[data-test=crm-360-stage]')
  await el.first().waitFor()
  expect((await el.count()) === 1, `one opportunity on the 360° page, found ${await el.count()}`)
  return (await el.innerText()).trim()
}

const idFromUrl = (p, prefix) => {
  const m = new URL(p.url()).pathname.match(new RegExp(`^${prefix}/([0-9]+)$`))
  expect(m, `expected a ${prefix}/<id> address, got ${p.url()}`)
  return m[1]
}

async function main() {
  api = await apiSession()
  await resetLanguages(api)
  repApi = await apiSession(REP, DEMO_PASSWORD)
  const repId = String(repApi.me.user.id)
  const cardPng = png(`crm-card-${stamp}.png`, 120, 72, [40, 110, 200])
  const visitPng = png(`crm-visit-${stamp}.png`, 96, 96, [60, 160, 90])
  browser = await launch()
  let leadId = ''
  let accountId = ''
  let opportunityId = ''

  await st.step('rep (phone): capture a lead from a business card', async () => {
    phone = await newPage(browser, consoleErrors, PHONE)
    await signIn(phone, REP, DEMO_PASSWORD)
    await phone.goto(BASE_URL + '/crm/card')
    await phone.locator('[data-test=crm-lead-quick]').waitFor()
    await phone.locator('[data-test=crm-card-photo]').setInputFiles(cardPng)
    await phone.locator('.crm-quick .photo img').waitFor({ timeout: 10000 })
    await phone.locator(inp('crm-card-company')).fill(COMPANY)
    await phone.locator(inp('crm-card-name')).fill('周明')
    await phone.locator(inp('crm-card-phone')).fill(PHONE_NO)
    await pickOption(phone, phone.locator('[data-test=crm-card-region]'), '华东')
    await noHorizontalOverflow(phone, 'business card')
    await shot(phone, 'crm-card-phone')
    await phone.locator('[data-test=crm-card-save]').click()
    // A fresh company and phone: no duplicate warning, the lead is made.
    await phone.locator('[data-test=crm-card-open]').waitFor()
    await phone.locator('[data-test=crm-card-open]').click()
    await phone.waitForURL(/\/e\/leads\/[0-9]+$/)
    leadId = idFromUrl(phone, '/e/leads')
    const lead = must(await repApi.call('GET', `/records/leads/${leadId}`), 'read the new lead', 200)
    expect(lead.company === COMPANY, `company ${lead.company}`)
    expect(lead.source === 'business_card', `source ${lead.source}`)
    expect(typeof lead.card_image === 'string' && lead.card_image !== '', `card_image ${JSON.stringify(lead.card_image)}`)
    expect(lead.region === '华东', `region ${lead.region}`)
  })

  await st.step('rep (phone): the lead is assigned to the rep, shown on its page', async () => {
    const lead = must(await repApi.call('GET', `/records/leads/${leadId}`), 'read the lead', 200)
    // The rep entered it: it is theirs and stays out of the pools.
    expect(String(lead.owner) === repId, `owner ${lead.owner}, expected ${repId}`)
    expect(!lead.pool, `the lead went to pool ${lead.pool}`)
    await phone.locator('[data-test=detail-title]').waitFor()
    const owner = phone.locator('[data-field=owner] dd')
    expect((await owner.innerText()).includes(repApi.me.user.name), `owner shown as ${await owner.innerText()}`)
    await phone.locator('[data-test=crm-convert]').waitFor()
    await noHorizontalOverflow(phone, 'lead page')
    await shot(phone, 'crm-lead-phone')
  })

  await st.step('rep (phone): the generic new-lead form warns of the duplicate', async () => {
    await phone.goto(BASE_URL + '/e/leads/new')
    await phone.locator('[data-field=company] input').fill(COMPANY)
    const warn = phone.locator('[data-test=crm-dup-warning]')
    await warn.waitFor()
    expect((await warn.innerText()).includes(COMPANY), 'the duplicate names the lead')
    expect((await warn.locator('[data-test=crm-dup-save]').count()) === 0, 'the form hint has no save button of its own')
    const sections = await formSections(phone)
    expect(sections.length >= 2 && sections.every((x) => x.input), `a new lead's form shows only sections with input: ${JSON.stringify(sections)}`)
    expect(!sections.some((x) => x.title === '转化'), `no conversion section on a new lead: ${JSON.stringify(sections)}`)
    await noHorizontalOverflow(phone, 'new lead form')
    await shot(phone, 'crm-dup-phone')
    // Leave without saving: the form asks to confirm.
    await phone.locator('.form-actions button', { hasText: '取消' }).click()
    await phone.locator('.el-message-box .el-button--primary').click()
    await phone.waitForURL((u) => !u.pathname.endsWith('/new'))
  })

  await st.step('rep (phone): check in at the lead with the location and a photo', async () => {
    await phone.goto(`${BASE_URL}/crm/checkin?lead=${leadId}`)
    await phone.locator('[data-test=crm-checkin]').waitFor()
    await phone.locator('[data-test=crm-checkin-located]').waitFor()
    await phone.locator(inp('crm-checkin-address')).fill('苏州工业园区星湖街 1 号')
    await phone.locator('[data-test=crm-checkin-photo]').setInputFiles(visitPng)
    await phone.locator('.crm-checkin .photos img').waitFor({ timeout: 10000 })
    await noHorizontalOverflow(phone, 'check-in')
    await shot(phone, 'crm-checkin-phone')
    await phone.locator('[data-test=crm-checkin-submit]').click()
    await phone.waitForURL(/\/e\/activities\/[0-9]+$/)
    const actId = idFromUrl(phone, '/e/activities')
    const act = must(await repApi.call('GET', `/records/activities/${actId}`), 'read the visit', 200)
    expect(act.kind === 'visit', `kind ${act.kind}`)
    expect(String(act.lead) === leadId, `lead ${act.lead}`)
    const loc = act.location
    expect(loc && Math.abs(Number(loc.lat) - GEO.latitude) < 0.001 && Math.abs(Number(loc.lng) - GEO.longitude) < 0.001, `location ${JSON.stringify(loc)}`)
    const photos = Array.isArray(act.photos) ? act.photos : []
    expect(photos.length === 1, `photos ${JSON.stringify(act.photos)}`)
    const lead = must(await repApi.call('GET', `/records/leads/${leadId}`), 'read the lead', 200)
    expect(lead.last_followup_at, 'the visit set the lead’s last follow-up')
  })

  await st.step('rep (phone): convert the lead into an account, contact and opportunity', async () => {
    await phone.goto(`${BASE_URL}/e/leads/${leadId}`)
    await phone.locator('[data-test=crm-convert]').click()
    const dlg = phone.locator('[data-test=crm-convert-dialog]')
    await dlg.waitFor()
    expect(await phone.locator('[data-test=crm-convert-opp] input').isChecked(), 'an opportunity is offered')
    await phone.locator(inp('crm-convert-name')).fill(`${COMPANY} 产线改造`)
    await phone.locator(inp('crm-convert-amount')).fill('880000')
    await noHorizontalOverflow(phone, 'convert dialog')
    await shot(phone, 'crm-convert-phone')
    await phone.locator('[data-test=crm-convert-ok]').click()
    await phone.locator('[data-test=crm-converted]').waitFor()
    const acc = phone.locator('[data-test=crm-converted-account]')
    const opp = phone.locator('[data-test=crm-converted-opportunity]')
    expect((await acc.innerText()).includes(COMPANY), 'the account is named after the company')
    expect((await opp.innerText()).includes('产线改造'), 'the opportunity is linked')
    await shot(phone, 'crm-converted-phone')
    const lead = must(await repApi.call('GET', `/records/leads/${leadId}`), 'read the converted lead', 200)
    expect(lead.status === 'converted', `status ${lead.status}`)
    accountId = String(lead.converted_account)
    opportunityId = String(lead.converted_opportunity)
    const o = must(await repApi.call('GET', `/records/opportunities/${opportunityId}`), 'read the opportunity', 200)
    expect(String(o.account) === accountId, `opportunity account ${o.account}`)
    expect(Number(o.amount) === 880000, `amount ${o.amount}`)
    expect(String(o.owner) === repId, `opportunity owner ${o.owner}`)
    const contact = must(await repApi.call('GET', `/records/contacts/${lead.converted_contact}`), 'read the contact', 200)
    expect(contact.name === '周明' && String(contact.account) === accountId, `contact ${JSON.stringify(contact)}`)
    // Closing the dialog: the lead page no longer offers "Convert".
    await phone.locator('[data-test=crm-convert-ok]').click()
    await phone.locator('[data-test=crm-convert-dialog]').waitFor({ state: 'hidden' })
    expect((await phone.locator('[data-test=crm-convert]').count()) === 0, 'a converted lead is not offered for conversion')
    await phone.goto(`${BASE_URL}/crm/accounts/${accountId}`)
    await phone.locator('[data-test=crm-360]').waitFor()
    await phone.getByText(`${COMPANY} 产线改造`).first().waitFor()
    const stage = await stageNameOf(repApi, opportunityId)
    expect((await stageShown(phone)) === stage.name, `the 360° page shows the stage as ${await stageShown(phone)}, expected ${stage.name}`)
    await noHorizontalOverflow(phone, '360° page (phone)')
    await shot(phone, 'crm-360-phone', { full: true })
  })

  await st.step('admin (desktop): the account page links to the 360° page with the decision chain', async () => {
    must(
      await api.call('POST', '/records/contacts', { account: accountId, name: '韩总', title: '总经理', decision_role: 'decision_maker', influence: 'high' }),
      'add a decision maker',
    )
    must(
      await api.call('PATCH', `/records/contacts/${(await findOne(api, 'contacts', `account == ${accountId} && name == "周明"`)).id}`, { decision_role: 'technical' }),
      'give the converted contact a role',
    )
    page = await newPage(browser, consoleErrors, DESKTOP)
    await signIn(page)
    // The customer group: the working lists first, the set-up last, each once.
    const nav = await page.locator('[data-test=nav] [data-test^=nav-]').evaluateAll((els) => els.map((e) => e.getAttribute('data-test')))
    const at = (t) => nav.indexOf(t)
    const work = ['nav-leads', 'nav-lead-pool', 'nav-accounts', 'nav-crm-360', 'nav-contacts', 'nav-activities']
    const setup = ['nav-web_forms', 'nav-crm-transfer', 'nav-grading-rules', 'nav-lead_assignment_rules', 'nav-lead_pools']
    expect(
      [...work, ...setup].every((t) => nav.filter((x) => x === t).length === 1) && work.every((t, i) => i === 0 || at(work[i - 1]) < at(t)),
      `the working lists in order, each once: ${JSON.stringify(nav)}`,
    )
    expect(setup.every((t) => at(t) > at('nav-activities')), `the set-up after the working lists: ${JSON.stringify(nav)}`)
    await page.goto(`${BASE_URL}/e/accounts/${accountId}`)
    await page.locator('[data-test=detail-title]').waitFor()
    expect((await page.locator('[data-test=record-action-regrade]').count()) === 1, 'the account page offers Regrade')
    await page.locator('[data-test=crm-open-360]').click()
    await page.waitForURL(new RegExp(`/crm/accounts/${accountId}$`))
    const chain = page.locator('[data-test=crm-360-chain]')
    await chain.getByText('韩总').waitFor()
    const text = await chain.innerText()
    expect(text.includes('周明'), 'the converted contact is in the decision chain')
    expect(text.includes('决策人') || text.includes('决策'), `the decision maker role is named: ${text}`)
    expect(text.includes('技术'), `the technical role is named: ${text}`)
    const stage = await stageNameOf(api, opportunityId)
    expect((await stageShown(page)) === stage.name, `the 360° page shows the stage as ${await stageShown(page)}, expected ${stage.name}`)
    await shot(page, 'crm-360-desktop', { full: true })
    await switchLanguage(page, 'en')
    await page.locator('[data-test=crm-360-chain]').getByText('Decision').first().waitFor()
    expect((await stageShown(page)) === stage.name_en, `in English the 360° page shows the stage as ${await stageShown(page)}, expected ${stage.name_en}`)
    await shot(page, 'crm-360-desktop-en', { full: true })
    // Editing keeps the read-only fields that have values: the conversion.
    await page.goto(`${BASE_URL}/e/leads/${leadId}/edit`)
    await page.locator('[data-field=converted_account]').waitFor()
    const sections = await formSections(page)
    expect(sections.some((x) => x.title === 'Conversion' && !x.input), `the converted lead's form shows its conversion: ${JSON.stringify(sections)}`)
    await switchLanguage(page, 'zh-CN')
  })

  await st.step('rep (phone): claim a lead from the 华东 pool', async () => {
    const pool = await findOne(api, 'lead_pools', 'region == "华东"')
    expect(pool, 'the demo has a 华东 pool')
    const pooled = `宁波公海测试精密有限公司 ${stamp}`
    let pooledId = ''
    // A colleague gives a lead up: it goes back to the pool of its region.
    const other = await apiSession('rep.east2', DEMO_PASSWORD)
    try {
      const made = must(await other.call('POST', '/records/leads', { company: pooled, region: '华东', source: 'trade_show' }), 'rep.east2 enters a lead')
      must(await other.call('POST', `/records/leads/${made.id}/actions/return`, { reason: '客户暂无预算' }), 'rep.east2 returns the lead', 200)
      pooledId = String(made.id)
    } finally {
      await other.dispose()
    }
    const back = must(await api.call('GET', `/records/leads/${pooledId}`), 'read the returned lead', 200)
    expect(String(back.pool) === String(pool.id), `the returned lead is in pool ${back.pool}, expected ${pool.id}`)
    await phone.goto(BASE_URL + '/leads/pool')
    await phone.locator('[data-test=leadpool-view]').waitFor()
    await phone.locator('[data-test=leadpool-tabs] .el-tabs__item', { hasText: String(pool.name) }).click()
    await phone.locator(inp('leadpool-search')).fill(stamp)
    await phone.locator(inp('leadpool-search')).press('Enter')
    const card = phone.locator('[data-test=leadpool-card]', { hasText: pooled })
    await card.waitFor()
    await noHorizontalOverflow(phone, 'pool')
    await shot(phone, 'crm-pool-phone')
    await card.locator('[data-test=leadpool-claim]').click()
    await card.waitFor({ state: 'detached' })
    const lead = must(await repApi.call('GET', `/records/leads/${pooledId}`), 'read the claimed lead', 200)
    expect(String(lead.owner) === repId, `owner after the claim ${lead.owner}`)
    expect(!lead.pool, `still in pool ${lead.pool}`)
  })

  await st.step('no unexpected browser console errors', async () => {
    expect(consoleErrors.length === 0, `console errors:\n  ${consoleErrors.join('\n  ')}`)
  })
}

await runScript('crm', st, main, {
  failureShots: () => ({ 'crm-failure': page, 'crm-failure-phone': phone }),
  cleanup: async () => {
    await api?.dispose()
    await repApi?.dispose()
  },
  browser: () => browser,
  consoleErrors,
})
