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

const initial = new Set()
for (const m of html.matchAll(/(?:src|href)="\/(assets\/[^"]+\.js)"/g)) initial.add(m[1])
// Follow static imports of the initial chunks.
const queue = [...initial]
while (queue.length) {
  const f = queue.pop()
  const src = readFileSync(join(dist, f), 'utf8')
  for (const m of src.matchAll(/(?:^|[;\n}])\s*import\s*(?:[\w${},\s*]+from\s*)?["']\.\/([^"']+\.js)["']/g)) {
    const dep = 'assets/' + m[1]
    if (!initial.has(dep)) {
      initial.add(dep)
      queue.push(dep)
    }
  }
}
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
if (total > 350 * 1024) {
  console.error('initial JavaScript is over budget')
  process.exit(1)
}
