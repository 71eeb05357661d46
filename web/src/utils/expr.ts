// A small evaluator for the simple forms of Tenon's expression language used
// by visible_if / required_if (field == "x", field > n, in [..], contains,
// nil, && || !, parentheses). Anything it does not understand evaluates to
// `undefined`, and callers then fall back to "visible, not required": the
// server evaluates the full language and stays authoritative.

type Tok =
  | { k: 'id'; v: string }
  | { k: 'str'; v: string }
  | { k: 'num'; v: number }
  | { k: 'op'; v: string }
  | { k: 'end' }

const OPS = ['&&', '||', '==', '!=', '<=', '>=', '<', '>', '!', '(', ')', '[', ']', ',']

function tokenize(src: string): Tok[] | null {
  const out: Tok[] = []
  let i = 0
  while (i < src.length) {
    const c = src[i]
    if (/\s/.test(c)) {
      i++
      continue
    }
    if (c === '"' || c === "'" || c === '`') {
      let j = i + 1
      let s = ''
      while (j < src.length && src[j] !== c) {
        if (src[j] === '\\' && j + 1 < src.length) {
          const n = src[j + 1]
          s += n === 'n' ? '\n' : n === 't' ? '\t' : n
          j += 2
        } else {
          s += src[j++]
        }
      }
      if (j >= src.length) return null
      out.push({ k: 'str', v: s })
      i = j + 1
      continue
    }
    if (/[0-9]/.test(c) || (c === '.' && /[0-9]/.test(src[i + 1] ?? ''))) {
      const m = /^[0-9_]*\.?[0-9_]*(e[+-]?\d+)?/i.exec(src.slice(i))!
      out.push({ k: 'num', v: Number(m[0].replace(/_/g, '')) })
      i += m[0].length
      continue
    }
    if (/[A-Za-z_$]/.test(c)) {
      const m = /^[A-Za-z_$][A-Za-z0-9_$]*(\.[A-Za-z_][A-Za-z0-9_]*)*/.exec(src.slice(i))!
      out.push({ k: 'id', v: m[0] })
      i += m[0].length
      continue
    }
    const op = OPS.find((o) => src.startsWith(o, i))
    if (!op) return null
    out.push({ k: 'op', v: op })
    i += op.length
  }
  out.push({ k: 'end' })
  return out
}

type Node =
  | { t: 'lit'; v: unknown }
  | { t: 'var'; name: string }
  | { t: 'list'; items: Node[] }
  | { t: 'not'; x: Node }
  | { t: 'bin'; op: string; l: Node; r: Node }

class Parser {
  private i = 0
  constructor(private toks: Tok[]) {}
  private peek(): Tok {
    return this.toks[this.i]
  }
  private isOp(v: string): boolean {
    const t = this.peek()
    return (t.k === 'op' && t.v === v) || (t.k === 'id' && t.v === v)
  }
  parse(): Node {
    const n = this.or()
    if (this.peek().k !== 'end') throw new Error('trailing input')
    return n
  }
  private or(): Node {
    let l = this.and()
    while (this.isOp('||') || this.isOp('or')) {
      this.i++
      l = { t: 'bin', op: '||', l, r: this.and() }
    }
    return l
  }
  private and(): Node {
    let l = this.unary()
    while (this.isOp('&&') || this.isOp('and')) {
      this.i++
      l = { t: 'bin', op: '&&', l, r: this.unary() }
    }
    return l
  }
  private unary(): Node {
    if (this.isOp('!') || this.isOp('not')) {
      this.i++
      return { t: 'not', x: this.unary() }
    }
    return this.cmp()
  }
  private cmp(): Node {
    const l = this.primary()
    const t = this.peek()
    const ops = ['==', '!=', '<', '<=', '>', '>=', 'in', 'contains', 'startsWith', 'endsWith']
    if ((t.k === 'op' || t.k === 'id') && ops.includes(t.v)) {
      this.i++
      return { t: 'bin', op: t.v, l, r: this.primary() }
    }
    if (t.k === 'id' && t.v === 'not' && this.toks[this.i + 1]?.k === 'id' && (this.toks[this.i + 1] as { v: string }).v === 'in') {
      this.i += 2
      return { t: 'not', x: { t: 'bin', op: 'in', l, r: this.primary() } }
    }
    return l
  }
  private primary(): Node {
    const t = this.peek()
    this.i++
    if (t.k === 'str') return { t: 'lit', v: t.v }
    if (t.k === 'num') return { t: 'lit', v: t.v }
    if (t.k === 'id') {
      if (t.v === 'true') return { t: 'lit', v: true }
      if (t.v === 'false') return { t: 'lit', v: false }
      if (t.v === 'nil' || t.v === 'null') return { t: 'lit', v: null }
      if (this.peek().k === 'op' && (this.peek() as { v: string }).v === '(') throw new Error('functions are not evaluated here')
      return { t: 'var', name: t.v }
    }
    if (t.k === 'op' && t.v === '(') {
      const n = this.or()
      if (!this.isOp(')')) throw new Error('missing )')
      this.i++
      return n
    }
    if (t.k === 'op' && t.v === '[') {
      const items: Node[] = []
      while (!this.isOp(']')) {
        items.push(this.primary())
        if (this.isOp(',')) this.i++
        else if (!this.isOp(']')) throw new Error('bad list')
      }
      this.i++
      return { t: 'list', items }
    }
    if (t.k === 'op' && t.v === '-' ) throw new Error('unsupported')
    throw new Error('unexpected token')
  }
}

const cache = new Map<string, Node | null>()

function compile(src: string): Node | null {
  if (cache.has(src)) return cache.get(src)!
  let n: Node | null = null
  try {
    const toks = tokenize(src)
    if (toks) n = new Parser(toks).parse()
  } catch {
    n = null
  }
  cache.set(src, n)
  return n
}

class Unknown extends Error {}

function num(v: unknown): number | null {
  if (typeof v === 'number') return v
  if (typeof v === 'string' && v.trim() !== '' && !Number.isNaN(Number(v))) return Number(v)
  return null
}

function isEmpty(v: unknown): boolean {
  return v === null || v === undefined || v === ''
}

function eq(a: unknown, b: unknown): boolean {
  if (isEmpty(a) || isEmpty(b)) return isEmpty(a) && isEmpty(b)
  const x = num(a)
  const y = num(b)
  if (x !== null && y !== null && (typeof a === 'number' || typeof b === 'number')) return x === y
  if (typeof a === 'boolean' || typeof b === 'boolean') return a === b
  return String(a) === String(b)
}

function order(a: unknown, b: unknown): number | null {
  if (isEmpty(a) || isEmpty(b)) return null
  const x = num(a)
  const y = num(b)
  if (x !== null && y !== null) return x - y
  return String(a) < String(b) ? -1 : String(a) > String(b) ? 1 : 0
}

function evalNode(n: Node, vars: Record<string, unknown>): unknown {
  switch (n.t) {
    case 'lit':
      return n.v
    case 'list':
      return n.items.map((x) => evalNode(x, vars))
    case 'var': {
      if (n.name.includes('.')) throw new Unknown() // a link path needs the linked record
      if (!(n.name in vars)) throw new Unknown()
      return vars[n.name]
    }
    case 'not':
      return !truthy(evalNode(n.x, vars))
    case 'bin': {
      if (n.op === '&&') return truthy(evalNode(n.l, vars)) && truthy(evalNode(n.r, vars))
      if (n.op === '||') return truthy(evalNode(n.l, vars)) || truthy(evalNode(n.r, vars))
      const l = evalNode(n.l, vars)
      const r = evalNode(n.r, vars)
      switch (n.op) {
        case '==':
          return eq(l, r)
        case '!=':
          return !eq(l, r)
        case '<':
        case '<=':
        case '>':
        case '>=': {
          const c = order(l, r)
          if (c === null) return false
          return n.op === '<' ? c < 0 : n.op === '<=' ? c <= 0 : n.op === '>' ? c > 0 : c >= 0
        }
        case 'in':
          return Array.isArray(r) ? r.some((x) => eq(l, x)) : false
        case 'contains':
          if (Array.isArray(l)) return l.some((x) => eq(x, r))
          return typeof l === 'string' && typeof r === 'string' ? l.toLowerCase().includes(r.toLowerCase()) : false
        case 'startsWith':
          return typeof l === 'string' && typeof r === 'string' ? l.toLowerCase().startsWith(r.toLowerCase()) : false
        case 'endsWith':
          return typeof l === 'string' && typeof r === 'string' ? l.toLowerCase().endsWith(r.toLowerCase()) : false
      }
      throw new Unknown()
    }
  }
}

function truthy(v: unknown): boolean {
  return v === true
}

/**
 * evaluate runs a condition over the form's values. It returns undefined
 * when the expression is outside the simple forms this evaluator knows.
 */
export function evaluate(src: string | undefined, vars: Record<string, unknown>): boolean | undefined {
  if (!src || !src.trim()) return undefined
  const n = compile(src)
  if (!n) return undefined
  try {
    return truthy(evalNode(n, vars))
  } catch {
    return undefined
  }
}

// ------------------------------------------------------------ filter text

/** quote writes a string literal of the expression language. */
export function quote(s: string): string {
  return JSON.stringify(s)
}

/** isNumberText accepts what a numeric literal may be ("12", "-3.5"). */
export function isNumberText(s: string): boolean {
  return /^-?\d+(\.\d+)?$/.test(s.trim())
}
