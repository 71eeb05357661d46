// Browser-side clean-up of rich text, mirroring the server's allow-list
// (internal/platform/meta/richtext.go): used on everything pasted or dropped
// into the editor and on the HTML the editor emits. The input is parsed with
// DOMParser (an inert document: scripts do not run, images do not load) and
// rebuilt element by element from an allow-list; nothing of the input is
// inserted as is. Styles, classes, ids, event handlers and every attribute
// not listed below are dropped, so paste from Word, WeChat or web pages
// keeps structure and emphasis but no styling.

/** Elements kept (after RENAME), with no attributes unless listed in ATTRS. */
const ALLOWED = new Set([
  'p', 'br', 'hr', 'h1', 'h2', 'h3', 'h4', 'strong', 'em', 'u', 's', 'sub', 'sup',
  'ul', 'ol', 'li', 'blockquote', 'pre', 'code', 'div',
  'table', 'thead', 'tbody', 'tr', 'th', 'td', 'a', 'img',
])
/** Synonyms normalised to one spelling (what the toolbar shows as active). */
const RENAME: Record<string, string> = {
  b: 'strong', i: 'em', strike: 's', del: 's', ins: 'u', h5: 'h4', h6: 'h4', tfoot: 'tbody',
  section: 'div', article: 'div', header: 'div', footer: 'div', main: 'div', aside: 'div', nav: 'div',
  figure: 'div', figcaption: 'div', address: 'div', center: 'div', dl: 'div', dt: 'div', dd: 'div',
  caption: 'div', details: 'div', summary: 'div',
}
/** Elements dropped together with everything inside them. */
const DROP = new Set([
  'script', 'style', 'template', 'noscript', 'iframe', 'frame', 'frameset', 'object', 'embed', 'applet',
  'head', 'title', 'meta', 'link', 'base', 'svg', 'math', 'canvas', 'video', 'audio', 'source', 'track',
  'input', 'button', 'select', 'textarea', 'option', 'form', 'xml', 'colgroup', 'col', 'map', 'area',
])
/** Block elements that may not sit inside a <p>. */
const BLOCKS = new Set(['p', 'div', 'ul', 'ol', 'li', 'blockquote', 'pre', 'table', 'h1', 'h2', 'h3', 'h4', 'h5', 'h6', 'hr'])
/** Leaves that are allowed although empty. */
const VOID = new Set(['br', 'hr', 'img'])

/** Tenon's own files, the only images the server keeps. */
export const OWN_FILE_SRC = /^\/api\/v1\/files\/[A-Za-z0-9_-]{10,64}$/

/** safeHref is the href kept on a link: http(s), mailto or relative; else null. */
export function safeHref(raw: string | null): string | null {
  const v = (raw ?? '').trim()
  if (!v) return null
  if (/^(https?:|mailto:)/i.test(v)) {
    try {
      const u = new URL(v)
      return /^(https?:|mailto:)$/i.test(u.protocol) ? v : null
    } catch {
      return null
    }
  }
  // Relative URLs: no scheme before the first /, ? or #.
  if (/^[^/?#]*:/.test(v)) return null
  return v
}

/** isUserLink checks a URL typed into the link prompt: absolute http(s) or mailto only. */
export function isUserLink(v: string): boolean {
  const s = v.trim()
  if (!/^(https?:\/\/|mailto:)/i.test(s)) return false
  try {
    const u = new URL(s)
    return u.protocol === 'mailto:' ? u.pathname.length > 0 : !!u.hostname
  } catch {
    return false
  }
}

function copyChildren(from: Node, to: Node, doc: Document): void {
  for (const child of Array.from(from.childNodes)) {
    if (child.nodeType === Node.TEXT_NODE) {
      to.appendChild(doc.createTextNode(child.textContent ?? ''))
    } else if (child.nodeType === Node.ELEMENT_NODE) {
      copyElement(child as Element, to, doc)
    } // comments (Word's conditional comments), processing instructions: dropped
  }
}

function copyElement(el: Element, to: Node, doc: Document): void {
  // Namespaced tags (Word's o:p, w:sdt, …) are unwrapped.
  let tag = el.localName.toLowerCase()
  if (DROP.has(tag)) return
  tag = RENAME[tag] ?? tag
  if (!ALLOWED.has(tag)) {
    copyChildren(el, to, doc) // span, font, label, …: keep the text, lose the wrapper
    return
  }
  if (tag === 'a') {
    const href = safeHref(el.getAttribute('href'))
    if (!href) {
      copyChildren(el, to, doc)
      return
    }
    const a = doc.createElement('a')
    a.setAttribute('href', href)
    copyChildren(el, a, doc)
    if (a.childNodes.length) to.appendChild(a)
    return
  }
  if (tag === 'img') {
    const src = (el.getAttribute('src') ?? '').trim()
    if (!OWN_FILE_SRC.test(src)) return // other images would not survive the server
    const img = doc.createElement('img')
    img.setAttribute('src', src)
    const alt = el.getAttribute('alt')
    if (alt) img.setAttribute('alt', alt)
    to.appendChild(img)
    return
  }
  // Editing can leave a list or another block inside a <p>, which an HTML
  // parser would split into empty paragraphs around it: keep it as a <div>.
  if (tag === 'p' && Array.from(el.children).some((c) => BLOCKS.has(c.localName.toLowerCase()))) tag = 'div'
  const out = doc.createElement(tag)
  if (tag === 'td' || tag === 'th') {
    for (const name of ['colspan', 'rowspan']) {
      const v = el.getAttribute(name)
      if (v && /^\d{1,3}$/.test(v.trim()) && v.trim() !== '1') out.setAttribute(name, v.trim())
    }
  }
  copyChildren(el, out, doc)
  // Empty inline wrappers (Word leaves many) are dropped; empty blocks keep a line.
  if (!out.childNodes.length && !VOID.has(tag)) {
    if (['p', 'div', 'li', 'td', 'th', 'h1', 'h2', 'h3', 'h4', 'blockquote', 'pre'].includes(tag)) out.appendChild(doc.createElement('br'))
    else if (!['tr', 'tbody', 'thead', 'table', 'ul', 'ol'].includes(tag)) return
  }
  to.appendChild(out)
}

/** cleanRichHtml returns the allowed part of html as an HTML string. */
export function cleanRichHtml(html: string): string {
  return cleanRichNode(new DOMParser().parseFromString(html, 'text/html').body)
}

/**
 * cleanRichNode returns the allowed part of a live element's content (the
 * editor's own DOM, read as it is rather than re-parsed from its innerHTML).
 */
export function cleanRichNode(root: Node): string {
  const doc = document.implementation.createHTMLDocument('')
  const box = doc.createElement('div')
  copyChildren(root, box, doc)
  return box.innerHTML
}

/** isRichEmpty: no visible text and no image (what the server stores as ""). */
export function isRichEmpty(html: string): boolean {
  if (!html || /<img\b/i.test(html)) return !html
  const doc = new DOMParser().parseFromString(html, 'text/html')
  return (doc.body.textContent ?? '').replace(/[\s\u00a0\u200b]+/g, '') === ''
}
