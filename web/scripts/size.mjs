// Reports the gzipped size of the JavaScript the browser loads before the
// first screen: the entry script of dist/index.html and every chunk it
// preloads or imports statically. Route chunks (loaded on navigation) are
// listed separately. Budget: 350 KB gzipped for the initial JS.
import { readFileSync, readdirSync } from 'node:fs'
import { gzipSync } from 'node:zlib'
import { join } from 'node:path'

const dist = new URL('../dist/', import.meta.url).pathname
const html = readFileSync(join(dist, 'index.html'), 'utf8')
const gz = (f) => gzipSync(readFileSync(join(dist, f)), { level: 9 }).length
const kb = (n) => (n / 1024).toFixed(1) + ' KB'

// withStatic adds to files every chunk they import statically, in turn.
function withStatic(files) {
  const out = new Set(files)
  const queue = [...out]
  while (queue.length) {
    const f = queue.pop()
    const src = readFileSync(join(dist, f), 'utf8')
    for (const m of src.matchAll(/(?:^|[;\n}])\s*import\s*(?:[\w${},\s*]+from\s*)?["']\.\/([^"']+\.js)["']/g)) {
      const dep = 'assets/' + m[1]
      if (!out.has(dep)) {
        out.add(dep)
        queue.push(dep)
      }
    }
  }
  return out
}
const initial = withStatic([...html.matchAll(/(?:src|href)="\/(assets\/[^"]+\.js)"/g)].map((m) => m[1]))
let total = 0
console.log('initial JavaScript (gzip -9):')
for (const f of [...initial].sort()) {
  const n = gz(f)
  total += n
  console.log(`  ${f.padEnd(48)} ${kb(n).padStart(9)}`)
}
console.log(`  ${'total'.padEnd(48)} ${kb(total).padStart(9)}   (budget 350 KB)`)
const all = readdirSync(join(dist, 'assets')).filter((f) => f.endsWith('.js'))
const lazy = all.map((f) => 'assets/' + f).filter((f) => !initial.has(f))
const lazyTotal = lazy.reduce((s, f) => s + gz(f), 0)
console.log(`lazy chunks: ${lazy.length}, ${kb(lazyTotal)} gzipped in all`)
// The sign-in screen and a list's first page (the shell and the list
// screen) must not need the
// `ui-more` chunk of Element Plus (see FIRST_PAGE_UI in vite.config.ts).
const assets = readdirSync(join(dist, 'assets'))
const firstPage = withStatic([...initial, ...assets.filter((f) => /^(LoginView|AppLayout|EntityList)-.*\.js$/.test(f)).map((f) => 'assets/' + f)])
const more = [...firstPage].filter((f) => /\/ui-more-/.test(f))
if (more.length) {
  console.error(`the sign-in or a list's first page imports ${more.join(', ')}: add the Element Plus component it needs to FIRST_PAGE_UI in vite.config.ts`)
  process.exit(1)
}
const firstPageTotal = [...firstPage].reduce((s, f) => s + gz(f), 0)
console.log(`the sign-in, shell and list screens: ${kb(firstPageTotal)} gzipped`)
if (total > 350 * 1024) {
  console.error('initial JavaScript is over budget')
  process.exit(1)
}
