// Shared pieces of the browser test scripts (run.mjs, flow.mjs,
// automation.mjs): configuration from the environment, steps that report
// and stop at the first failure, an API session, pages that collect
// console errors, sign-in and screenshots.
import { chromium, request } from 'playwright-core'
import { mkdirSync } from 'node:fs'
import { join } from 'node:path'

export const BASE_URL = (process.env.BASE_URL || 'http://127.0.0.1:8080').replace(/\/$/, '')
export const ADMIN_LOGIN = process.env.ADMIN_LOGIN || 'admin'
export const ADMIN_PASSWORD = process.env.ADMIN_PASSWORD
export const SHOTS_DIR = process.env.SHOTS_DIR || '/tmp/tenon-shots'
export const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium'
export const HEADED = process.env.HEADED === '1'
/** The password of the demo company's users (`serve --demo`). */
export const DEMO_PASSWORD = 'demo1234'

export function requireConfig(script) {
  if (!ADMIN_PASSWORD) {
    console.error(`${script}: set ADMIN_PASSWORD (and BASE_URL)`)
    process.exit(2)
  }
  mkdirSync(SHOTS_DIR, { recursive: true })
}

export function fail(msg) {
  throw new Error(msg)
}

export function expect(cond, msg) {
  if (!cond) fail(msg)
}

/** A run of named steps: each prints ok with its time; the first failure ends the run. */
export function steps() {
  const st = { passed: 0, current: '' }
  st.step = async (name, fn) => {
    st.current = name
    const t0 = Date.now()
    await fn()
    st.passed++
    console.log(`ok   ${name} (${Date.now() - t0} ms)`)
  }
  return st
}

/** shot saves a screenshot of page as SHOTS_DIR/<name>.png, without transient toasts. */
export async function shot(page, name, opts = {}) {
  await page.evaluate(() => document.querySelectorAll('.el-message').forEach((el) => el.remove()))
  if (opts.full) await page.evaluate(() => window.scrollTo(0, 0))
  await page.waitForTimeout(250) // let transitions settle
  await page.screenshot({ path: join(SHOTS_DIR, `${name}.png`), fullPage: opts.full ?? false })
}

/** apiSession signs in through the API; call(method, path, data, headers) returns {status, body, headers}. */
export async function apiSession(login = ADMIN_LOGIN, password = ADMIN_PASSWORD) {
  const ctx = await request.newContext({ baseURL: BASE_URL })
  const res = await ctx.post('/api/v1/auth/login', { data: { login, password } })
  if (res.status() !== 200) fail(`API login as ${login}: HTTP ${res.status()} ${await res.text()}`)
  const me = await (await ctx.get('/api/v1/auth/me')).json()
  const headers = { 'X-CSRF-Token': me.csrf_token }
  return {
    me,
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

export function launch() {
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: !HEADED,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
  })
}

/**
 * newPage opens a page in a fresh context (zh-CN, Asia/Shanghai unless opts
 * say otherwise); browser errors other than the expected HTTP statuses are
 * pushed to consoleErrors.
 */
export async function newPage(browser, consoleErrors, opts = {}) {
  const ctx = await browser.newContext({ locale: 'zh-CN', timezoneId: 'Asia/Shanghai', ...opts })
  const p = await ctx.newPage()
  // A bound for a page that hangs, not a speed check: CI runs the browser
  // tests beside the race detector, which keeps both cores busy.
  p.setDefaultTimeout(30000)
  p.on('pageerror', (e) => consoleErrors.push(`pageerror: ${e.message}`))
  p.on('console', (m) => {
    // 401 on the first /auth/me and the 4xx the tests provoke are expected.
    if (m.type() === 'error' && !/status of (401|404|409|412|422)/.test(m.text())) consoleErrors.push(m.text())
  })
  return p
}

/** login fills the sign-in form of page p. */
export async function login(p, password = ADMIN_PASSWORD, name = ADMIN_LOGIN) {
  await p.locator('[data-test=login-name]').fill(name)
  await p.locator('[data-test=login-password]').fill(password)
  await p.locator('[data-test=login-submit]').click()
}

/** signIn opens /login on p, signs in and waits for the app shell. */
export async function signIn(p, name = ADMIN_LOGIN, password = ADMIN_PASSWORD) {
  await p.goto(BASE_URL + '/login')
  await login(p, password, name)
  await p.waitForURL((u) => !u.pathname.startsWith('/login'))
}

/**
 * switchLanguage picks language `to` from the header menu. A click that lands
 * while the menu is still opening can be lost on a loaded machine, so the
 * menu is opened again (at most three times) until the page's lang changes.
 */
export async function switchLanguage(p, to) {
  const isOn = (l) => document.documentElement.lang === l
  for (let attempt = 1; ; attempt++) {
    await p.locator('[data-test=lang-switch]').click()
    try {
      await p.locator(`[data-test=lang-${to}]:visible`).click({ timeout: 10000 })
      await p.waitForFunction(isOn, to, { timeout: 10000 })
      return
    } catch (e) {
      if (await p.evaluate(isOn, to)) return
      if (attempt === 3) throw e
      await p.keyboard.press('Escape')
    }
  }
}

/** pickOption opens an Element Plus select inside scope (typing text when typeIt) and clicks the option with text. */
export async function pickOption(p, scope, text, typeIt = false) {
  await scope.locator('.el-select__wrapper').first().click()
  if (typeIt) await scope.locator('input.el-select__input').first().fill(text)
  const item = p.locator('.el-select-dropdown__item:visible', { hasText: text }).first()
  await item.waitFor({ state: 'visible', timeout: 15000 })
  await item.click()
}

export async function noHorizontalOverflow(p, what) {
  const { sw, iw } = await p.evaluate(() => ({ sw: document.documentElement.scrollWidth, iw: window.innerWidth }))
  expect(sw <= iw + 1, `${what}: the page is ${sw}px wide in a ${iw}px viewport (horizontal overflow)`)
}

/**
 * runScript runs a script's main and ends it: on a failure a screenshot of
 * each open page (failureShots() returns { name: page }), then cleanup()
 * (API sessions, servers), then the verdict and the time taken.
 */
export async function runScript(name, st, main, { failureShots = () => ({}), cleanup = async () => {}, browser = () => null, consoleErrors = [] } = {}) {
  const t0 = Date.now()
  let err = null
  try {
    await main()
  } catch (e) {
    err = e
    for (const [shotName, p] of Object.entries(failureShots())) if (p) await shot(p, shotName).catch(() => {})
  }
  await cleanup()
  await finish(st, browser(), err, consoleErrors)
  console.log(`${name} e2e: ${((Date.now() - t0) / 1000).toFixed(1)} s`)
}

/** finish prints the summary and exits: non-zero naming the failed step. */
export async function finish(st, browser, err, consoleErrors = []) {
  if (browser) await browser.close().catch(() => {})
  if (err) {
    console.error(`FAIL ${st.current}: ${err.message}`)
    if (consoleErrors.length) console.error('browser console:\n  ' + consoleErrors.join('\n  '))
    process.exit(1)
  }
  console.log(`\n${st.passed} passed, 0 failed`)
}

/**
 * resetLanguages saves zh-CN as every user's language (through an admin
 * API session): the scripts share one server, and run.mjs leaves some
 * users on English, which the app applies at sign-in.
 */
export async function resetLanguages(api) {
  const r = await api.call('GET', '/records/users?per_page=200&fields=id,version,language')
  expect(r.status === 200, `list users: HTTP ${r.status}`)
  for (const u of r.body.items) {
    if (u.language === 'zh-CN') continue
    const p = await api.call('PATCH', `/records/users/${u.id}`, { language: 'zh-CN' }, { 'If-Match': `"${u.version}"` })
    expect(p.status === 200, `reset the language of user ${u.id}: HTTP ${p.status} ${JSON.stringify(p.body)}`)
  }
}

/** must checks an API answer's status (one or a list) and returns its body. */
export function must(r, what, status = [200, 201]) {
  const ok = Array.isArray(status) ? status.includes(r.status) : r.status === status
  expect(ok, `${what}: HTTP ${r.status} ${JSON.stringify(r.body)}`)
  return r.body
}

/** findOne returns the first record of entity matching filter (through api), or null. */
export async function findOne(api, entity, filter) {
  const r = await api.call('GET', `/records/${entity}?filter=${encodeURIComponent(filter)}&per_page=1`)
  return must(r, `find ${entity} ${filter}`, 200).items[0] ?? null
}
