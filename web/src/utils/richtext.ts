// Plain text of a rich_text value (sanitised HTML from the server), for list
// cells, cards, the timeline and history. The HTML is parsed by DOMParser
// (an inert document: nothing runs, no image loads) and only its text is
// read; block ends become spaces so paragraphs do not run together.
const BLOCK_END = /<\/(p|div|li|h[1-6]|tr|td|th|blockquote|pre)\s*>|<br\s*\/?>|<hr\s*\/?>/gi

export function richPlainText(html: string, max = 0): string {
  if (!html) return ''
  const doc = new DOMParser().parseFromString(html.replace(BLOCK_END, (m) => m + ' '), 'text/html')
  const text = (doc.body.textContent ?? '').replace(/\s+/g, ' ').trim()
  return max > 0 && text.length > max ? text.slice(0, max).trimEnd() + '…' : text
}
