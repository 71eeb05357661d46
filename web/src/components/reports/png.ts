// PNG pictures of the charts that are HTML (table, pivot, KPI tiles):
// drawn again on a canvas, on white, with the report's name on top, so an
// export is a real image without a screenshot library. Charts drawn by
// ECharts use its own getDataURL.

const FONT = '-apple-system, BlinkMacSystemFont, "Segoe UI", "PingFang SC", "Microsoft YaHei", sans-serif'
const SCALE = 2
const PAD = 16
const ROW_H = 28
const MAX_COL_W = 260

export interface GridPicture {
  title: string
  header: string[]
  rows: string[][]
  footer?: string[] | null
  /** Columns aligned right (numbers). */
  numeric: boolean[]
}

function canvas(w: number, h: number): { c: HTMLCanvasElement; g: CanvasRenderingContext2D } {
  const c = document.createElement('canvas')
  c.width = Math.ceil(w * SCALE)
  c.height = Math.ceil(h * SCALE)
  const g = c.getContext('2d')!
  g.scale(SCALE, SCALE)
  g.fillStyle = '#fff'
  g.fillRect(0, 0, w, h)
  return { c, g }
}

function fit(g: CanvasRenderingContext2D, s: string, w: number): string {
  if (g.measureText(s).width <= w) return s
  let out = s
  while (out.length > 1 && g.measureText(out + '…').width > w) out = out.slice(0, -1)
  return out + '…'
}

/** gridPng draws a table (header, rows, a bold footer) as a PNG data URL. */
export function gridPng(p: GridPicture): string {
  const probe = document.createElement('canvas').getContext('2d')!
  probe.font = `13px ${FONT}`
  const all = [p.header, ...p.rows, ...(p.footer ? [p.footer] : [])]
  const widths = p.header.map((_, i) => Math.min(MAX_COL_W, Math.max(...all.map((r) => probe.measureText(r[i] ?? '').width)) + 20))
  const tableW = widths.reduce((a, b) => a + b, 0)
  probe.font = `bold 15px ${FONT}`
  const w = Math.max(tableW, probe.measureText(p.title).width) + PAD * 2
  const h = PAD * 2 + 28 + ROW_H * all.length
  const { c, g } = canvas(w, h)
  g.fillStyle = '#303133'
  g.font = `bold 15px ${FONT}`
  g.textBaseline = 'middle'
  g.fillText(p.title, PAD, PAD + 10)
  let y = PAD + 28
  all.forEach((r, ri) => {
    const head = ri === 0
    const foot = !!p.footer && ri === all.length - 1
    if (head || foot) {
      g.fillStyle = '#f5f7fa'
      g.fillRect(PAD, y, tableW, ROW_H)
    }
    g.strokeStyle = '#ebeef5'
    g.beginPath()
    g.moveTo(PAD, y + ROW_H + 0.5)
    g.lineTo(PAD + tableW, y + ROW_H + 0.5)
    g.stroke()
    g.font = `${head || foot ? 'bold ' : ''}13px ${FONT}`
    g.fillStyle = head ? '#606266' : '#303133'
    let x = PAD
    r.forEach((cell, i) => {
      const text = fit(g, cell ?? '', widths[i] - 20)
      if (p.numeric[i] && !head) {
        g.textAlign = 'right'
        g.fillText(text, x + widths[i] - 10, y + ROW_H / 2)
      } else {
        g.textAlign = 'left'
        g.fillText(text, x + 10, y + ROW_H / 2)
      }
      x += widths[i]
    })
    g.textAlign = 'left'
    y += ROW_H
  })
  return c.toDataURL('image/png')
}

/** tilesPng draws KPI tiles (a label and a big number each) as a PNG data URL. */
export function tilesPng(title: string, tiles: { label: string; value: string }[]): string {
  const tileW = 200
  const tileH = 86
  const perRow = Math.min(4, Math.max(1, tiles.length))
  const rowsN = Math.ceil(tiles.length / perRow)
  const w = PAD * 2 + perRow * tileW + (perRow - 1) * 12
  const h = PAD * 2 + 28 + rowsN * tileH + (rowsN - 1) * 12
  const { c, g } = canvas(w, h)
  g.textBaseline = 'middle'
  g.fillStyle = '#303133'
  g.font = `bold 15px ${FONT}`
  g.fillText(title, PAD, PAD + 10)
  tiles.forEach((tile, i) => {
    const x = PAD + (i % perRow) * (tileW + 12)
    const y = PAD + 28 + Math.floor(i / perRow) * (tileH + 12)
    g.fillStyle = '#f5f7fa'
    g.fillRect(x, y, tileW, tileH)
    g.fillStyle = '#909399'
    g.font = `13px ${FONT}`
    g.fillText(fit(g, tile.label, tileW - 24), x + 12, y + 22)
    g.fillStyle = '#303133'
    g.font = `bold 24px ${FONT}`
    g.fillText(fit(g, tile.value, tileW - 24), x + 12, y + 56)
  })
  return c.toDataURL('image/png')
}

/** download saves a data URL (or a same-origin address) as a file. */
export function download(href: string, name: string): void {
  const a = document.createElement('a')
  a.href = href
  a.download = name
  document.body.appendChild(a)
  a.click()
  a.remove()
}

/** fileName turns a report's name into a safe file name. */
export function fileName(name: string, ext: string): string {
  const base = name.replace(/[\\/:*?"<>|]+/g, '_').trim() || 'report'
  return `${base}.${ext}`
}
