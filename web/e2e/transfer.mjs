// Browser tests of import, export, webhooks and the outbound allow-list
// against a running `tenon serve --demo`.
//
//   BASE_URL=http://127.0.0.1:8080 ADMIN_PASSWORD=... node e2e/transfer.mjs
//
// Through the API: a custom entity of leads `imp_leads` (company, contact
// name, phone, e-mail (unique), region (select)), emptied when an earlier
// run left records, so that every count below is exact (the CRM's own
// leads, which hold the demo's, are imported in a step of their own). The
// script writes an XLSX of eight leads, two of them bad (an invalid phone
// number, a missing company), with exceljs. In the browser, as admin:
//   - the list's Import button opens the wizard; the limits and template
//     links are shown; a .txt file is refused before upload and a broken
//     .xlsx is refused by the server, its reason shown;
//   - the XLSX is uploaded; the suggested mapping is checked, the column
//     the server could not match ("手机") is mapped to the phone field by
//     hand, a required field left unmapped is flagged; duplicates are
//     checked on the e-mail (unique: "create anyway" is not offered);
//   - the dry run counts 6 valid and 2 invalid rows and lists both errors
//     with their spreadsheet row numbers; its error report (XLSX and CSV)
//     is downloaded and holds exactly the two bad rows, their original
//     cells, row numbers and messages; nothing was written;
//   - the run's progress bar reaches done with 6 created and 2 failed;
//   - the list, filtered (region == east) and sorted (by company) in the
//     browser, is exported as XLSX and CSV from its Export menu; both files
//     are opened again and equal the rows and columns on screen (and the
//     API's list with the same filter and sort);
//   - the imports page lists the import as done; the CRM's own leads take
//     an XLSX through the same wizard (no status column: it has a default);
//     the wizard in English;
//   - at phone size (390×844): the list's buttons, the wizard's upload,
//     mapping in one column and dry run (duplicates found by e-mail are
//     skipped), without horizontal overflow;
//   - the outbound allow-list refuses a bad entry (its line named) and
//     saves 127.0.0.1; a webhook to a receiver started by this script:
//     "Send a test" shows success (the receiver checks the signature), a
//     test to a closed port shows failure; a delivery's "Replay" is shown
//     done and reaches the receiver again with the same delivery id;
//     the navigation has the webhook, delivery and inbound-endpoint lists.
// Screenshots go to SHOTS_DIR (transfer-*.png); any unexpected browser
// console error fails the run.
import { createServer } from 'node:http'
import { createHmac, timingSafeEqual } from 'node:crypto'
import { readFileSync } from 'node:fs'
import ExcelJS from 'exceljs'
import {
  BASE_URL,
  apiSession,
  expect,
  fail,
  runScript,
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

requireConfig('e2e/transfer.mjs')

const ENTITY = 'imp_leads'
const LABEL = { 'zh-CN': '销售线索', en: 'Sales leads' }
const stamp = Date.now().toString(36)
const DESKTOP = { viewport: { width: 1366, height: 860 } }
const PHONE = { viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true, deviceScaleFactor: 2 }
const XLSX_MIME = 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet'

// The file: "手机" is not a label of any field (the phone field is "电话"),
// so it is mapped by hand; "备注" has no field and stays ignored.
const HEADER = ['公司名称', '联系人', '手机', '邮箱', '区域', '备注']
const mail = (n) => `${n}.${stamp}@example.com`
// Spreadsheet rows 2..9 (the header is row 1). Rows 4 (a phone number
// that is none) and 8 (no company, which is required) are bad.
const ROWS = [
  ['苏州精密模具有限公司', '张三', '13800000001', mail('zhang'), '华东', '展会'],
  ['宁波注塑科技', '李四', '13800000002', mail('li'), '华东', ''],
  ['杭州测控', '吴九', '待补充', mail('wu'), '华东', '电话有误'],
  ['深圳电子', '王五', '13800000003', mail('wang'), '华南', ''],
  ['东莞五金', '赵六', '13900000004', mail('zhao'), '华南', '老客户介绍'],
  ['天津重工', '孙七', '13900000005', mail('sun'), '华北', ''],
  ['', '郑十', '13600000008', mail('zheng'), '华南', '缺公司名称'],
  ['上海自动化', '周八', '13700000006', mail('zhou'), '华东', ''],
]
const BAD_ROWS = [4, 8]
const GOOD = ROWS.length - BAD_ROWS.length
const EAST = ROWS.filter((r, i) => r[4] === '华东' && !BAD_ROWS.includes(i + 2))

const st = steps()
const consoleErrors = []
let browser = null
let api = null
let page = null
let phone = null
let importId = null
let xlsx = null
let receiver = null
const received = []

// ------------------------------------------------------------------ helpers

const q = encodeURIComponent

async function makeXlsx() {
  const wb = new ExcelJS.Workbook()
  const ws = wb.addWorksheet('线索')
  ws.addRow(HEADER)
  for (const r of ROWS) ws.addRow(r)
  return Buffer.from(await wb.xlsx.writeBuffer())
}

/** cellText is what a spreadsheet cell shows, as text. */
function cellText(v) {
  if (v === null || v === undefined) return ''
  if (typeof v === 'object') {
    if (Array.isArray(v.richText)) return v.richText.map((p) => p.text).join('')
    if ('text' in v) return String(v.text)
    if ('result' in v) return String(v.result)
    if (v instanceof Date) return v.toISOString().slice(0, 10)
  }
  return String(v)
}

/** readXlsx returns the first sheet's rows as arrays of text (trailing empty cells dropped). */
async function readXlsx(buf) {
  const wb = new ExcelJS.Workbook()
  await wb.xlsx.load(buf)
  const ws = wb.worksheets[0]
  expect(ws, 'the workbook has a sheet')
  const out = []
  ws.eachRow({ includeEmpty: true }, (row) => {
    const cells = []
    for (let c = 1; c <= row.cellCount; c++) cells.push(cellText(row.getCell(c).value))
    while (cells.length && cells[cells.length - 1] === '') cells.pop()
    out.push(cells)
  })
  return out
}

/** parseCsv reads RFC 4180 CSV (quotes, doubled quotes, CRLF) into rows of cells. */
function parseCsv(text) {
  const rows = []
  let row = []
  let cell = ''
  let quoted = false
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]
    if (quoted) {
      if (ch === '"' && text[i + 1] === '"') {
        cell += '"'
        i++
      } else if (ch === '"') quoted = false
      else cell += ch
    } else if (ch === '"') quoted = true
    else if (ch === ',') {
      row.push(cell)
      cell = ''
    } else if (ch === '\r' && text[i + 1] === '\n') {
      row.push(cell)
      rows.push(row)
      row = []
      cell = ''
      i++
    } else if (ch === '\n') fail('a bare LF in the CSV (want CRLF)')
    else cell += ch
  }
  if (cell !== '' || row.length) {
    row.push(cell)
    rows.push(row)
  }
  return rows
}

/** readCsv checks the BOM and CRLF of a CSV download and returns its rows. */
function readCsv(buf) {
  expect(buf[0] === 0xef && buf[1] === 0xbb && buf[2] === 0xbf, 'the CSV starts with a UTF-8 BOM')
  const text = buf.subarray(3).toString('utf8')
  expect(text.includes('\r\n'), 'the CSV ends its lines with CRLF')
  return parseCsv(text)
}

/** download clicks what `click` clicks and returns the downloaded file's name and bytes. */
async function download(p, click) {
  const [dl] = await Promise.all([p.waitForEvent('download', { timeout: 20000 }), click()])
  const failure = await dl.failure()
  expect(!failure, `download failed: ${failure}`)
  return { name: dl.suggestedFilename(), body: readFileSync(await dl.path()) }
}

/** tableRows reads the list table on screen: its column headers and the text of each row's cells. */
async function tableRows(p) {
  return p.evaluate(() => {
    const table = document.querySelector('[data-test=list-table]')
    const heads = [...table.querySelectorAll('thead th')].map((th) => th.innerText.trim())
    const rows = [...table.querySelectorAll('tbody tr')].map((tr) => [...tr.querySelectorAll('td')].map((td) => td.innerText.trim()))
    return { heads, rows }
  })
}

/** waitList waits until the list table shows n rows. */
async function waitList(p, n) {
  await p.waitForFunction((want) => document.querySelectorAll('[data-test=list-table] tbody tr').length === want, n, { timeout: 15000 })
}

async function setInputFile(p, file) {
  await p.locator('[data-test=import-file]').setInputFiles(file)
}

/** pick chooses an option of a select inside scope and waits for its dropdown to close (several selects share the page). */
async function pick(p, scope, text) {
  await pickOption(p, scope, text)
  await p.waitForFunction(() => [...document.querySelectorAll('.el-select__popper')].every((el) => getComputedStyle(el).display === 'none'))
}

/** mapRow is the mapping row of a column of the file. */
const mapRow = (p, column) => p.locator(`[data-test=map-row][data-column="${column}"]`)
const mappedText = async (p, column) => (await mapRow(p, column).locator('[data-test=map-field] .el-select__wrapper').innerText()).trim()
const statN = async (p, key) => Number(await p.locator(`[data-test=${key}]`).getAttribute('data-n'))

// -------------------------------------------------------------------- run

async function main() {
  browser = await launch()

  await st.step('setup through the API: the imp_leads entity (emptied), the XLSX file', async () => {
    api = await apiSession()
    await resetLanguages(api)
    const have = await api.call('GET', `/meta/entities/${ENTITY}`)
    if (have.status === 404) {
      must(
        await api.call('POST', '/meta/entities', {
          name: ENTITY,
          label: LABEL,
          module: 'crm',
          title_field: 'company',
          fields: [
            { name: 'company', type: 'text', label: { 'zh-CN': '公司名称', en: 'Company' }, required: true, max_length: 200 },
            { name: 'contact_name', type: 'text', label: { 'zh-CN': '联系人', en: 'Contact name' }, max_length: 100 },
            { name: 'phone', type: 'phone', label: { 'zh-CN': '电话', en: 'Phone' } },
            { name: 'email', type: 'email', label: { 'zh-CN': '邮箱', en: 'E-mail' }, unique: true },
            {
              name: 'region',
              type: 'select',
              label: { 'zh-CN': '区域', en: 'Region' },
              options: [
                { value: 'east', label: { 'zh-CN': '华东', en: 'East' } },
                { value: 'south', label: { 'zh-CN': '华南', en: 'South' } },
                { value: 'north', label: { 'zh-CN': '华北', en: 'North' } },
              ],
            },
          ],
        }),
        'create the imp_leads entity',
      )
    } else {
      must(have, 'read the imp_leads entity', 200)
      // An earlier run against this server left leads: to the recycle bin with them.
      for (;;) {
        const list = must(await api.call('GET', `/records/${ENTITY}?per_page=500&fields=id,version`), 'list old leads', 200)
        if (!list.items.length) break
        for (const r of list.items) must(await api.call('DELETE', `/records/${ENTITY}/${r.id}`), `delete old lead ${r.id}`, 204)
      }
    }
    xlsx = { name: `线索-${stamp}.xlsx`, mimeType: XLSX_MIME, buffer: await makeXlsx() }
    // The receiver of the webhook tests (started now, used at the end).
    receiver = createServer((req, res) => {
      const chunks = []
      req.on('data', (c) => chunks.push(c))
      req.on('end', () => {
        received.push({ headers: req.headers, body: Buffer.concat(chunks).toString('utf8') })
        res.writeHead(204).end()
      })
    })
    await new Promise((resolve) => receiver.listen(0, '127.0.0.1', resolve))
  })

  page = await newPage(browser, consoleErrors, DESKTOP)

  await st.step('the list: Import opens the wizard with its limits and templates', async () => {
    await signIn(page)
    await page.goto(`${BASE_URL}/e/${ENTITY}`)
    await page.locator('[data-test=list-title]', { hasText: LABEL['zh-CN'] }).waitFor()
    await page.locator('[data-test=list-export]').waitFor()
    await page.locator('[data-test=list-import]').click()
    await page.waitForURL(new RegExp(`/import/${ENTITY}$`))
    await page.locator('[data-test=wizard-title]', { hasText: `导入${LABEL['zh-CN']}` }).waitFor()
    const limits = await page.locator('[data-test=import-limits]').innerText()
    expect(limits.includes('50 MB') && limits.includes('200,000') && limits.includes('200'), `limits shown: ${limits}`)
    const tpl = await download(page, () => page.locator('[data-test=import-template-csv]').click())
    const head = readCsv(tpl.body)[0]
    // The importable fields' labels, the required one marked, the owner last.
    expect(JSON.stringify(head) === JSON.stringify(['公司名称*', '联系人', '电话', '邮箱', '区域', '负责人']), `template header: ${JSON.stringify(head)}`)
  })

  await st.step('upload: a .txt is refused at once, a broken .xlsx by the server with its reason', async () => {
    await setInputFile(page, { name: 'leads.txt', mimeType: 'text/plain', buffer: Buffer.from('公司名称\n苏州精密\n') })
    await page.locator('[data-test=wizard-error]', { hasText: '只能导入 .csv 或 .xlsx 文件' }).waitFor()
    await setInputFile(page, { name: '损坏的文件.xlsx', mimeType: XLSX_MIME, buffer: Buffer.from('this is not a spreadsheet, only text pretending to be one') })
    const err = page.locator('[data-test=wizard-error]')
    await page.waitForFunction(() => {
      const el = document.querySelector('[data-test=wizard-error]')
      return el && !el.innerText.includes('只能导入')
    })
    const text = (await err.innerText()).trim()
    expect(text.startsWith('文件未能导入') && text.length > 10 && !/HTTP \d+/.test(text), `the server's refusal is shown in words: "${text}"`)
    expect(new URL(page.url()).pathname === `/import/${ENTITY}`, 'still on the upload step')
    await shot(page, 'transfer-upload-refused-zh-CN-desktop')
  })

  await st.step('upload the XLSX: the mapping step with suggestions and samples', async () => {
    await setInputFile(page, xlsx)
    await page.waitForURL(/\/imports\/\d+$/)
    importId = new URL(page.url()).pathname.split('/').pop()
    await page.locator('[data-test=wizard-mapping]').waitFor()
    expect((await page.locator('[data-test=import-rows]').innerText()).includes(String(ROWS.length)), 'the row count of the file')
    expect((await page.locator('[data-test=map-row]').count()) === HEADER.length, 'one mapping row per column')
    // Suggestions from the labels; samples from the file.
    expect((await mappedText(page, '公司名称')).startsWith('公司名称'), `公司名称 suggested: ${await mappedText(page, '公司名称')}`)
    expect((await mappedText(page, '邮箱')) === '邮箱', 'e-mail suggested')
    expect((await mappedText(page, '区域')) === '区域', 'region suggested')
    expect((await mappedText(page, '手机')).includes('不导入'), `手机 is not matched: ${await mappedText(page, '手机')}`)
    expect((await mapRow(page, '公司名称').innerText()).includes('苏州精密模具有限公司'), 'sample values shown')
    const imp = must(await api.call('GET', `/imports/${importId}`), 'read the import', 200)
    expect(imp.status === 'uploaded' && imp.rows === ROWS.length && imp.format === 'xlsx', `import: ${JSON.stringify(imp)}`)
  })

  await st.step('mapping: a required field left out is flagged; 手机 mapped to the phone by hand; dedupe on the e-mail', async () => {
    expect((await page.locator('[data-test=map-missing]').count()) === 0, 'nothing required is missing')
    await pick(page, mapRow(page, '公司名称'), '不导入')
    await page.locator('[data-test=map-missing]', { hasText: '公司名称' }).waitFor()
    await pick(page, mapRow(page, '公司名称'), '公司名称 *')
    await page.locator('[data-test=map-missing]').waitFor({ state: 'detached' })
    await pick(page, mapRow(page, '手机'), '电话')
    expect((await mappedText(page, '手机')) === '电话', '手机 → 电话')
    // Two columns on one field are refused before the server sees them.
    await pick(page, mapRow(page, '备注'), '联系人')
    await mapRow(page, '备注').locator('[data-test=map-dup]').waitFor()
    expect(await page.locator('[data-test=wizard-dry-run]').isDisabled(), 'no dry run with a field mapped twice')
    await pick(page, mapRow(page, '备注'), '不导入')
    await pick(page, page.locator('[data-test=wizard-dedupe]'), '邮箱 (唯一)')
    const create = page.locator('[data-test=dedupe-mode] label', { hasText: '仍然新建' })
    expect((await create.getAttribute('class')).includes('is-disabled'), '"create anyway" is not offered for a unique field')
    await page.locator('[data-test=dedupe-mode] label', { hasText: '跳过' }).click()
    await shot(page, 'transfer-mapping-zh-CN-desktop', { full: true })
  })

  await st.step('dry run: counts and errors by row and column; nothing written', async () => {
    await page.locator('[data-test=wizard-dry-run]').click()
    await page.locator('[data-test=wizard-dry]').waitFor()
    expect((await statN(page, 'dry-total')) === ROWS.length, 'dry run total')
    expect((await statN(page, 'dry-valid')) === GOOD, 'dry run valid')
    expect((await statN(page, 'dry-invalid')) === BAD_ROWS.length, 'dry run invalid')
    expect((await statN(page, 'dry-create')) === GOOD, 'dry run create')
    const errs = await page.locator('[data-test=dry-errors] .el-table__body-wrapper tbody tr').allInnerTexts()
    expect(errs.length === 2, `two errors listed: ${JSON.stringify(errs)}`)
    expect(/^4\s/.test(errs[0]) && errs[0].includes('手机'), `row 4, column 手机: ${errs[0]}`)
    expect(/^8\s/.test(errs[1]) && errs[1].includes('公司名称'), `row 8, column 公司名称: ${errs[1]}`)
    const imp = must(await api.call('GET', `/imports/${importId}`), 'read the import', 200)
    expect(imp.status === 'checked', `status after the dry run: ${imp.status}`)
    expect(imp.mapping['手机'] === 'phone' && imp.mapping['备注'] === '' && imp.dedupe.field === 'email' && imp.dedupe.mode === 'skip', `saved mapping: ${JSON.stringify(imp)}`)
    const n = must(await api.call('GET', `/records/${ENTITY}?per_page=1&count=exact`), 'count leads', 200).total
    expect(n === 0, `the dry run wrote nothing (${n} leads)`)
    await shot(page, 'transfer-dry-run-zh-CN-desktop', { full: true })
  })

  await st.step('the dry run\'s error list downloads as CSV: rows 4 and 8 with their columns and messages', async () => {
    const d = await download(page, () => page.locator('[data-test=dry-report]').click())
    expect(d.name.endsWith('.csv') && d.name.includes('试导入错误'), `error list name: ${d.name}`)
    const rows = readCsv(d.body).filter((r) => r.some((x) => x !== ''))
    expect(JSON.stringify(rows[0]) === JSON.stringify(['行号', '列', '字段', '错误']), `error list header: ${JSON.stringify(rows[0])}`)
    expect(rows.length === 3 && rows[1][0] === '4' && rows[1][1] === '手机' && rows[2][0] === '8' && rows[2][1] === '公司名称', `error list: ${JSON.stringify(rows)}`)
    expect(rows.slice(1).every((r) => r[3].length > 0), 'each error has a message')
  })

  await st.step('run: the progress bar reaches done; 6 created, 2 failed', async () => {
    const start = page.locator('[data-test=wizard-start]')
    expect((await start.innerText()).includes('跳过 2 行'), `start button: ${await start.innerText()}`)
    await start.click()
    await page.locator('[data-test=wizard-run]').waitFor()
    await page.locator('[data-test=wizard-run][data-status=done]').waitFor({ timeout: 60000 })
    expect((await page.locator('[data-test=import-progress]').getAttribute('data-percent')) === '100', 'progress 100%')
    expect((await statN(page, 'run-created')) === GOOD, 'created count')
    expect((await statN(page, 'run-failed')) === BAD_ROWS.length, 'failed count')
    await page.locator('[data-test=import-done]').waitFor()
    await page.locator('[data-test=run-report-xlsx]').waitFor()
    await shot(page, 'transfer-run-done-zh-CN-desktop', { full: true })
    const n = must(await api.call('GET', `/records/${ENTITY}?per_page=1&count=exact`), 'count leads', 200).total
    expect(n === GOOD, `${n} leads after the import`)
  })

  await st.step('after the run, the error report (XLSX and CSV) holds the two bad rows: their cells, row numbers and messages', async () => {
    const x = await download(page, () => page.locator('[data-test=run-report-xlsx]').click())
    expect(x.name.endsWith('.xlsx'), `report name: ${x.name}`)
    const rows = await readXlsx(x.body)
    const head = rows[0]
    const rowCol = head.indexOf('行号')
    const errCol = head.indexOf('错误')
    expect(rowCol >= 0 && errCol >= 0, `report header: ${JSON.stringify(head)}`)
    for (const h of HEADER) expect(head.includes(h), `the report keeps column ${h}: ${JSON.stringify(head)}`)
    const data = rows.slice(1).filter((r) => r.length)
    expect(data.length === 2, `two rows in the report: ${JSON.stringify(data)}`)
    expect(data.map((r) => Number(r[rowCol])).join() === BAD_ROWS.join(), `row numbers: ${data.map((r) => r[rowCol])}`)
    expect(data[0][head.indexOf('公司名称')] === '杭州测控' && data[0][head.indexOf('手机')] === '待补充', `first bad row: ${JSON.stringify(data[0])}`)
    expect(data[1][head.indexOf('联系人')] === '郑十' && (data[1][head.indexOf('公司名称')] ?? '') === '', `second bad row: ${JSON.stringify(data[1])}`)
    expect(data.every((r) => (r[errCol] ?? '').length > 0), 'each row says what is wrong')
    const c = await download(page, () => page.locator('[data-test=run-report-csv]').click())
    const csv = readCsv(c.body).filter((r) => r.some((x) => x !== ''))
    expect(csv.length === 3 && csv[0].includes('行号') && csv.slice(1).map((r) => Number(r[csv[0].indexOf('行号')])).join() === BAD_ROWS.join(), `CSV report: ${JSON.stringify(csv)}`)
  })

  let shown = null
  await st.step('the list, filtered and sorted in the browser', async () => {
    await page.locator('[data-test=wizard-to-list]').click()
    await page.waitForURL(new RegExp(`/e/${ENTITY}$`))
    await waitList(page, GOOD)
    await page.locator('[data-test=list-filter]').click()
    await page.locator('[data-test=filter-expression]').fill('region == "east"')
    await page.locator('[data-test=filter-apply]').click()
    await page.waitForURL(/filter=/)
    await waitList(page, EAST.length)
    const loads = Number(await page.locator('[data-test=list-card]').getAttribute('data-loads'))
    await page.locator('[data-test=list-table] thead th', { hasText: '公司名称' }).click() // unsorted → ascending
    await page.waitForURL(/sort=company/)
    await page.waitForFunction((n) => Number(document.querySelector('[data-test=list-card]')?.getAttribute('data-loads')) > n, loads)
    await waitList(page, EAST.length)
    shown = await tableRows(page)
    const companies = shown.rows.map((r) => r[shown.heads.indexOf('公司名称')])
    const want = EAST.map((r) => r[0]).sort((a, b) => a.localeCompare(b, 'zh-CN'))
    expect(new Set(companies).size === EAST.length && companies.every((c) => want.includes(c)), `filtered companies: ${companies}`)
    await shot(page, 'transfer-list-filtered-zh-CN-desktop')
  })

  await st.step('export XLSX and CSV from the menu; both equal the list on screen and the API', async () => {
    const cols = ['公司名称', '联系人', '电话', '邮箱', '区域']
    const screen = shown.rows.map((r) => cols.map((c) => r[shown.heads.indexOf(c)]))
    const url = new URL(page.url())
    const apiList = must(
      await api.call('GET', `/records/${ENTITY}?filter=${q(url.searchParams.get('filter'))}&sort=${q(url.searchParams.get('sort'))}&per_page=50`),
      'the API list',
      200,
    )
    const labels = { east: '华东', south: '华南', north: '华北' }
    const fromApi = apiList.items.map((r) => [r.company, r.contact_name, r.phone, r.email, labels[r.region]])
    expect(JSON.stringify(fromApi) === JSON.stringify(screen), `screen vs API:\n  ${JSON.stringify(screen)}\n  ${JSON.stringify(fromApi)}`)

    await page.locator('[data-test=list-export]').click()
    await page.locator('[data-test=export-xlsx]:visible').waitFor()
    await shot(page, 'transfer-export-menu-zh-CN-desktop')
    const x = await download(page, () => page.locator('[data-test=export-xlsx]:visible').click())
    expect(/\.xlsx$/.test(x.name) && x.name.startsWith(LABEL['zh-CN']), `XLSX name: ${x.name}`)
    const xr = await readXlsx(x.body)
    expect(JSON.stringify(xr[0]) === JSON.stringify(cols), `XLSX header: ${JSON.stringify(xr[0])}`)
    const xData = xr.slice(1).filter((r) => r.length)
    expect(JSON.stringify(xData) === JSON.stringify(screen), `XLSX rows vs screen:\n  ${JSON.stringify(xData)}\n  ${JSON.stringify(screen)}`)

    await page.locator('[data-test=list-export]').click()
    const c = await download(page, () => page.locator('[data-test=export-csv]:visible').click())
    expect(/\.csv$/.test(c.name) && c.name.startsWith(LABEL['zh-CN']), `CSV name: ${c.name}`)
    const cr = readCsv(c.body)
    expect(JSON.stringify(cr[0]) === JSON.stringify(cols), `CSV header: ${JSON.stringify(cr[0])}`)
    const cData = cr.slice(1).filter((r) => r.some((v) => v !== ''))
    expect(JSON.stringify(cData) === JSON.stringify(screen), `CSV rows vs screen:\n  ${JSON.stringify(cData)}\n  ${JSON.stringify(screen)}`)
  })

  await st.step('the imports page lists the import as done', async () => {
    await page.locator('[data-test=nav-imports]').click()
    await page.waitForURL(/\/imports$/)
    const row = page.locator(`[data-test=import-row][data-status=done]`, { hasText: xlsx.name })
    await row.waitFor()
    await shot(page, 'transfer-imports-zh-CN-desktop')
    await row.click()
    await page.waitForURL(new RegExp(`/imports/${importId}$`))
    await page.locator('[data-test=wizard-run][data-status=done]').waitFor()
  })

  await st.step("the CRM's own leads: an XLSX through the wizard (the status left to its default), its bad row reported, the leads imported", async () => {
    const wb = new ExcelJS.Workbook()
    const ws = wb.addWorksheet('线索')
    ws.addRow(['公司名称', '联系人', '电话', '区域', '预计金额'])
    ws.addRow([`无锡导入机械${stamp}有限公司`, '钱工', '13912345678', '华东', 500000])
    ws.addRow([`常州导入电子${stamp}有限公司`, '黄经理', '13712345678', '华东', 300000])
    ws.addRow(['', '无名', '13612345678', '华北', ''])
    const buffer = Buffer.from(await wb.xlsx.writeBuffer())
    await page.goto(`${BASE_URL}/import/leads`)
    await page.locator('[data-test=wizard-title]', { hasText: '导入线索' }).waitFor()
    await setInputFile(page, { name: `crm-leads-${stamp}.xlsx`, mimeType: XLSX_MIME, buffer })
    await page.locator('[data-test=wizard-mapping]').waitFor()
    expect((await page.locator('[data-test=map-missing]').count()) === 0, 'no required column missing: the status has a default')
    await page.locator('[data-test=wizard-dry-run]').click()
    await page.locator('[data-test=wizard-dry]').waitFor()
    expect((await statN(page, 'dry-valid')) === 2 && (await statN(page, 'dry-invalid')) === 1, 'dry run: 2 valid, 1 invalid')
    const errs = await page.locator('[data-test=dry-errors] .el-table__body-wrapper tbody tr').allInnerTexts()
    expect(errs.length === 1 && /^4\s/.test(errs[0]) && errs[0].includes('公司名称'), `row 4, column 公司名称: ${JSON.stringify(errs)}`)
    await page.locator('[data-test=wizard-start]').click()
    await page.locator('[data-test=wizard-run][data-status=done]').waitFor({ timeout: 60000 })
    expect((await statN(page, 'run-created')) === 2 && (await statN(page, 'run-failed')) === 1, 'run: 2 created, 1 failed')
    await shot(page, 'transfer-crm-leads-done-zh-CN-desktop', { full: true })
    const got = must(await api.call('GET', `/records/leads?filter=${encodeURIComponent(`company contains "${stamp}"`)}&count=exact`), 'read the imported leads', 200)
    expect(got.total === 2 && got.items.every((l) => l.status && l.region && l.company_norm), `imported leads: ${JSON.stringify(got.items)}`)
  })

  await st.step('English: the wizard and its template', async () => {
    await switchLanguage(page, 'en')
    await page.locator('[data-test=wizard-steps]', { hasText: 'Dry run' }).waitFor()
    const steps = await page.locator('[data-test=wizard-steps] .el-step__title').allInnerTexts()
    expect(steps.join('|') === 'Upload|Mapping|Dry run|Import', `steps: ${steps.join('|')}`)
    expect((await page.locator('[data-test=import-status]').innerText()).trim() === 'Done', 'status in English')
    expect((await page.locator('[data-test=run-created]').innerText()).includes('Created'), 'counts in English')
    await shot(page, 'transfer-run-done-en-desktop')
    await page.goto(`${BASE_URL}/import/${ENTITY}`)
    await page.locator('[data-test=wizard-title]', { hasText: `Import ${LABEL.en}` }).waitFor()
    expect((await page.locator('[data-test=import-drop]').innerText()).includes('Drop a CSV or Excel file here'), 'upload text in English')
    expect((await page.locator('[data-test=import-limits]').innerText()).startsWith('Limits:'), 'limits in English')
    const tpl = await download(page, () => page.locator('[data-test=import-template-csv]').click())
    const head = readCsv(tpl.body)[0]
    expect(head[0].startsWith('Company') && head[0].includes('*') && head.includes('E-mail'), `English template header: ${JSON.stringify(head)}`)
    await shot(page, 'transfer-upload-en-desktop')
    await page.goto(`${BASE_URL}/e/${ENTITY}`)
    await page.locator('[data-test=list-import]', { hasText: 'Import' }).waitFor()
    await page.locator('[data-test=list-export]', { hasText: 'Export' }).waitFor()
    await switchLanguage(page, 'zh-CN')
  })

  await st.step('phone: the list buttons, the wizard in one column, a dry run that skips duplicates', async () => {
    phone = await newPage(browser, consoleErrors, PHONE)
    await signIn(phone)
    await phone.goto(`${BASE_URL}/e/${ENTITY}`)
    await phone.locator('[data-test=list-cards] [data-test=list-row]').first().waitFor()
    await phone.locator('[data-test=list-import]').waitFor()
    await phone.locator('[data-test=list-export]').waitFor()
    await noHorizontalOverflow(phone, 'list (phone)')
    await shot(phone, 'transfer-list-zh-CN-phone')
    await phone.locator('[data-test=list-import]').click()
    await phone.locator('[data-test=import-drop]').waitFor()
    await noHorizontalOverflow(phone, 'upload (phone)')
    await shot(phone, 'transfer-upload-zh-CN-phone', { full: true })
    await setInputFile(phone, xlsx)
    await phone.locator('[data-test=wizard-mapping]').waitFor()
    const cols = await phone.evaluate(() => getComputedStyle(document.querySelectorAll('[data-test=map-row]')[0]).gridTemplateColumns.split(' ').length)
    expect(cols === 1, `mapping rows in one column (${cols})`)
    await pick(phone, mapRow(phone, '手机'), '电话')
    await pick(phone, phone.locator('[data-test=wizard-dedupe]'), '邮箱 (唯一)')
    await noHorizontalOverflow(phone, 'mapping (phone)')
    await shot(phone, 'transfer-mapping-zh-CN-phone', { full: true })
    await phone.locator('[data-test=wizard-dry-run]').click()
    await phone.locator('[data-test=wizard-dry]').waitFor()
    expect((await statN(phone, 'dry-skip')) === GOOD, `the ${GOOD} leads already imported are skipped as duplicates`)
    await noHorizontalOverflow(phone, 'dry run (phone)')
    await shot(phone, 'transfer-dry-run-zh-CN-phone', { full: true })
    await phone.goto(`${BASE_URL}/imports/${importId}`)
    await phone.locator('[data-test=wizard-run][data-status=done]').waitFor()
    await noHorizontalOverflow(phone, 'run (phone)')
    await shot(phone, 'transfer-run-done-zh-CN-phone', { full: true })
    await phone.goto(`${BASE_URL}/imports`)
    await phone.locator('[data-test=import-row]').first().waitFor()
    await noHorizontalOverflow(phone, 'imports (phone)')
    await shot(phone, 'transfer-imports-zh-CN-phone')
    await phone.context().close()
    phone = null
  })

  await st.step('outbound allow-list: a bad entry is refused on its line; 127.0.0.1 is saved', async () => {
    await page.locator('[data-test=nav-outbound]').click()
    await page.waitForURL(/\/admin\/outbound$/)
    const before = must(await api.call('GET', '/settings/outbound'), 'read the allow-list', 200)
    const keep = (before.allow ?? []).filter((h) => h !== '127.0.0.1')
    if (keep.length !== (before.allow ?? []).length) {
      // An earlier run saved it: start without it.
      must(await api.call('PUT', '/settings/outbound', { allow: keep }), 'reset the allow-list', 200)
      await page.reload()
    }
    const box = page.locator('textarea[data-test=outbound-hosts]')
    await box.waitFor()
    await page.waitForFunction((n) => document.querySelector('[data-test=outbound-count]')?.textContent.includes(String(n)), keep.length)
    await box.fill([...keep, 'http://not a host/', '127.0.0.1'].join('\n'))
    await page.locator('[data-test=outbound-save]').click()
    await page.locator('[data-test=outbound-failure]', { hasText: `第 ${keep.length + 1} 行` }).waitFor()
    await shot(page, 'transfer-outbound-refused-zh-CN-desktop')
    await box.fill([...keep, '127.0.0.1'].join('\n'))
    await page.locator('[data-test=outbound-save]').click()
    await page.locator('.el-message--success', { hasText: '白名单已保存' }).waitFor()
    const after = must(await api.call('GET', '/settings/outbound'), 'read the allow-list', 200)
    expect(after.allow.includes('127.0.0.1'), `saved: ${JSON.stringify(after)}`)
    await shot(page, 'transfer-outbound-zh-CN-desktop')
  })

  let hook = null
  await st.step('webhooks: "Send a test" shows success (signed) and, to a closed port, failure', async () => {
    const port = receiver.address().port
    hook = must(
      await api.call('POST', '/records/webhooks', { url: `http://127.0.0.1:${port}/hook`, entity: ENTITY, events: ['created'], active: true, description: `e2e ${stamp}` }),
      'create a webhook',
    )
    await page.locator('[data-test=nav-webhooks]').click()
    await page.waitForURL(/\/e\/webhooks$/)
    await page.goto(`${BASE_URL}/e/webhooks/${hook.id}`)
    await page.locator('[data-test=record-action-test]').click()
    await page.locator('.el-message--success', { hasText: '发送测试' }).waitFor()
    await page.locator('[data-test=record-action-ok]', { hasText: '“发送测试”成功' }).waitFor()
    const ping = received.at(-1)
    expect(ping && ping.headers['tenon-signature'], `the receiver got the test with a signature: ${JSON.stringify(ping?.headers)}`)
    const secret = must(await api.call('GET', `/records/webhooks/${hook.id}`), 'read the webhook', 200).secret
    expect(typeof secret === 'string' && secret.length >= 32, 'the webhook has a generated secret')
    const [, ts, sig] = /^t=(\d+),v1=([0-9a-f]{64})$/.exec(ping.headers['tenon-signature']) ?? []
    const want = createHmac('sha256', secret).update(`${ts}.${ping.body}`).digest()
    expect(sig && timingSafeEqual(Buffer.from(sig, 'hex'), want), `the test is signed with the secret: ${ping.headers['tenon-signature']}`)
    expect(JSON.parse(ping.body).event === 'ping', `a ping: ${ping.body}`)
    await shot(page, 'transfer-webhook-test-ok-zh-CN-desktop')
    // A closed port: the test fails, and says so.
    const closed = createServer()
    await new Promise((resolve) => closed.listen(0, '127.0.0.1', resolve))
    const closedPort = closed.address().port
    await new Promise((resolve) => closed.close(resolve))
    const cur = must(await api.call('GET', `/records/webhooks/${hook.id}`), 'read the webhook', 200)
    must(await api.call('PATCH', `/records/webhooks/${hook.id}`, { url: `http://127.0.0.1:${closedPort}/hook` }, { 'If-Match': `"${cur.version}"` }), 'point the webhook at a closed port', 200)
    await page.reload()
    await page.locator('[data-test=record-action-test]').click()
    await page.locator('.el-message--error', { hasText: '发送测试' }).waitFor()
    const failed = (await page.locator('[data-test=record-action-failed]').innerText()).trim()
    expect(failed.startsWith('“发送测试”失败：') && failed.length > '“发送测试”失败：'.length, `the failure and its reason: ${failed}`)
    await shot(page, 'transfer-webhook-test-failed-zh-CN-desktop')
    const again = must(await api.call('GET', `/records/webhooks/${hook.id}`), 'read the webhook', 200)
    must(await api.call('PATCH', `/records/webhooks/${hook.id}`, { url: `http://127.0.0.1:${port}/hook` }, { 'If-Match': `"${again.version}"` }), 'point the webhook back', 200)
  })

  await st.step('a delivery is replayed from its screen and reaches the receiver again with the same id', async () => {
    const n0 = received.length
    must(await api.call('POST', `/records/${ENTITY}`, { company: `Webhook 测试公司 ${stamp}`, region: 'north' }), 'a lead for the webhook')
    let delivery = null
    for (let i = 0; i < 100 && !delivery; i++) {
      const r = must(await api.call('GET', `/records/webhook_deliveries?filter=${q(`webhook == ${JSON.stringify(hook.id)} && status == "succeeded"`)}&per_page=1`), 'deliveries', 200)
      delivery = r.items[0] ?? null
      if (!delivery) await new Promise((res) => setTimeout(res, 200))
    }
    expect(delivery, 'the delivery succeeded')
    expect(received.length > n0, 'the receiver got the delivery')
    const first = received.at(-1)
    await page.locator('[data-test=nav-webhook-deliveries]').click()
    await page.waitForURL(/\/e\/webhook_deliveries$/)
    await page.goto(`${BASE_URL}/e/webhook_deliveries/${delivery.id}`)
    await page.locator('[data-test=record-action-replay]').click()
    await page.locator('.el-message--success', { hasText: '重新发送' }).waitFor()
    for (let i = 0; i < 100 && received.length < n0 + 2; i++) await new Promise((res) => setTimeout(res, 200))
    const replayed = received.at(-1)
    expect(replayed !== first, 'the replay reached the receiver')
    expect(replayed.headers['tenon-delivery'] === first.headers['tenon-delivery'], `same delivery id: ${replayed.headers['tenon-delivery']} vs ${first.headers['tenon-delivery']}`)
    await shot(page, 'transfer-delivery-zh-CN-desktop')
  })

  await st.step('navigation: inbound endpoints under Administration', async () => {
    await page.locator('[data-test=nav-inbound]').click()
    await page.waitForURL(/\/e\/inbound_endpoints$/)
    await page.locator('[data-test=list-title]').waitFor()
  })

  await st.step('no unexpected browser console errors', async () => {
    expect(consoleErrors.length === 0, `console errors:\n  ${consoleErrors.join('\n  ')}`)
  })
}

await runScript('transfer', st, main, {
  failureShots: () => ({ 'transfer-failure': page, 'transfer-failure-phone': phone }),
  cleanup: async () => {
    await api?.dispose()
    receiver?.closeAllConnections()
    receiver?.close()
  },
  browser: () => browser,
  consoleErrors,
})
