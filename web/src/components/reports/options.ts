// ECharts options of a report's result, one builder per chart type, each
// with the drill-down of its points: which row keys and which measure a
// clicked bar, slice, point, funnel step or heat-map cell stands for.
import type { Cell, ChartType, Result, ResultColumn } from '@/api/reports'
import { dimText, isPercent, measureText, num, percentText, shape, shortNumber } from './format'
import { t } from '@/i18n'

/** What a click on a chart's point asks the server to drill into. */
export interface Drill {
  keys: Cell[]
  measure: number
}

export interface Built {
  option: Record<string, unknown>
  /** drill of a point: series index and data index of an ECharts click. */
  drill: (seriesIndex: number, dataIndex: number) => Drill | null
}

/** The chart types drawn with ECharts (the others are HTML). */
export const ECHART_TYPES: ChartType[] = ['bar', 'line', 'area', 'pie', 'funnel', 'gauge', 'gantt', 'heatmap']

const FONT = { fontSize: 11 }

/** distinct lists the distinct values of a row column in their first order. */
function distinct(rows: Cell[][], i: number): Cell[] {
  const seen = new Set<string>()
  const out: Cell[] = []
  for (const r of rows) {
    const k = JSON.stringify(r[i] ?? null)
    if (!seen.has(k)) {
      seen.add(k)
      out.push(r[i] ?? null)
    }
  }
  return out
}

const same = (a: Cell | undefined, b: Cell | undefined) => JSON.stringify(a ?? null) === JSON.stringify(b ?? null)

function tooltipValue(c: ResultColumn) {
  return (v: unknown) => measureText(c, (v as Cell) ?? null)
}

/**
 * kindOf groups measures that share a scale: money, counts, percentages,
 * and other numbers by their unit. Each kind gets a value axis of its own
 * (the first two are shown, left and right), so a count beside an amount
 * in millions is not a flat line.
 */
function kindOf(c: ResultColumn): string {
  if (isPercent(c)) return 'percent'
  if (c.format === 'money') return 'money'
  if (c.op === 'count' || c.op === 'count_distinct') return 'count'
  return `n:${c.format ?? ''}:${c.unit ?? ''}`
}

function cartesian(res: Result, type: 'bar' | 'line' | 'area', zh: boolean): Built {
  const sh = shape(res)
  const opts = res.chart_options ?? {}
  const horizontal = !!opts.horizontal && type === 'bar'
  const stack = !!opts.stack
  // Percentages last: they are the lines over the bars.
  const ms = [...sh.measures.filter((m) => !isPercent(m.col)), ...sh.measures.filter((m) => isPercent(m.col))]
  const kinds: string[] = []
  for (const m of ms) if (!kinds.includes(kindOf(m.col))) kinds.push(kindOf(m.col))
  const axisOf = (c: ResultColumn) => kinds.indexOf(kindOf(c))
  const series: Record<string, unknown>[] = []
  const drills: Drill[][] = []
  const cols: ResultColumn[] = []
  let categories: string[]
  const base = (name: string, c: ResultColumn | undefined): Record<string, unknown> => {
    const rate = !!c && isPercent(c) && kinds.length > 1
    const axis = c ? axisOf(c) : 0
    return {
      name,
      type: rate || type !== 'bar' ? 'line' : 'bar',
      yAxisIndex: horizontal ? undefined : axis,
      xAxisIndex: horizontal ? axis : undefined,
      smooth: type !== 'bar',
      ...(type === 'area' && !rate ? { areaStyle: { opacity: stack ? 0.6 : 0.25 } } : {}),
      ...(stack && !rate ? { stack: `s${axis}` } : {}),
      emphasis: { focus: 'series' },
      barMaxWidth: 36,
    }
  }
  if (sh.dims.length === 0) {
    // No dimension: one category per measure.
    categories = ms.map((m) => m.col.label)
    const row = res.rows[0] ?? []
    series.push({ ...base(res.name, undefined), data: ms.map((m) => num(row[m.index])), colorBy: 'data' })
    cols.push(ms[0]?.col)
    drills.push(ms.map((m) => ({ keys: [], measure: m.m })))
    kinds.splice(1)
  } else {
    const d0 = sh.dims[0]
    const xs = distinct(res.rows, d0.index)
    categories = xs.map((x) => dimText(res, d0.col, x))
    if (sh.dims.length >= 2 && ms.length) {
      // Two dimensions: a series per value of the second, of the first measure.
      const d1 = sh.dims[1]
      const m = ms[0]
      kinds.splice(1)
      for (const sv of distinct(res.rows, d1.index)) {
        series.push({ ...base(dimText(res, d1.col, sv), m.col), data: xs.map((x) => num(res.rows.find((r) => same(r[d0.index], x) && same(r[d1.index], sv))?.[m.index])) })
        cols.push(m.col)
        drills.push(xs.map((x) => ({ keys: [x, sv], measure: m.m })))
      }
    } else {
      for (const m of ms) {
        series.push({ ...base(m.col.label, m.col), data: xs.map((x) => num(res.rows.find((r) => same(r[d0.index], x))?.[m.index])) })
        cols.push(m.col)
        drills.push(xs.map((x) => ({ keys: [x], measure: m.m })))
      }
    }
  }
  const colOfKind = (k: string) => ms.find((m) => kindOf(m.col) === k)?.col
  const valueAxes = kinds.map((k, i) => ({
    type: 'value',
    show: i < 2,
    position: horizontal ? (i === 0 ? 'bottom' : 'top') : i === 0 ? 'left' : 'right',
    axisLabel: { ...FONT, formatter: (v: number) => shortNumber(v, zh, sh.dims.length === 0 ? undefined : colOfKind(k)) },
    splitLine: { show: i === 0 },
  }))
  const catAxis = {
    type: 'category',
    data: categories,
    inverse: horizontal,
    axisLabel: { ...FONT, hideOverlap: true, width: horizontal ? 90 : undefined, overflow: 'truncate' },
  }
  const option: Record<string, unknown> = {
    grid: { left: 8, right: 12, top: series.length > 1 ? 32 : 16, bottom: 8, containLabel: true },
    legend: series.length > 1 ? { type: 'scroll', top: 0, textStyle: FONT, itemWidth: 14, itemHeight: 9 } : undefined,
    tooltip: {
      trigger: 'axis',
      confine: true,
      axisPointer: { type: type === 'bar' ? 'shadow' : 'line' },
      formatter: (ps: { seriesIndex: number; dataIndex: number; seriesName: string; name: string; value: unknown; marker: string }[]) => {
        if (!ps.length) return ''
        const lines = ps.map((p) => {
          const c = sh.dims.length === 0 ? ms[p.dataIndex]?.col : cols[p.seriesIndex]
          return `${p.marker}${esc(sh.dims.length === 0 ? p.name : p.seriesName)}: <b>${c ? tooltipValue(c)(p.value) : String(p.value)}</b>`
        })
        return [esc(sh.dims.length === 0 ? res.name : ps[0].name), ...lines].join('<br/>')
      },
    },
    xAxis: horizontal ? valueAxes : catAxis,
    yAxis: horizontal ? catAxis : valueAxes,
    series,
  }
  return { option, drill: (s, i) => drills[s]?.[i] ?? null }
}

function esc(s: string): string {
  return s.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]!)
}

function pie(res: Result): Built {
  const sh = shape(res)
  const m = sh.measures[0]
  let data: { name: string; value: number | null }[]
  let drills: Drill[]
  if (!m) return { option: {}, drill: () => null }
  if (sh.dims.length === 0) {
    const row = res.rows[0] ?? []
    data = sh.measures.map((x) => ({ name: x.col.label, value: num(row[x.index]) }))
    drills = sh.measures.map((x) => ({ keys: [], measure: x.m }))
  } else {
    const d0 = sh.dims[0]
    data = res.rows.map((r) => ({ name: dimText(res, d0.col, r[d0.index]), value: num(r[m.index]) }))
    drills = res.rows.map((r) => ({ keys: [r[d0.index] ?? null], measure: m.m }))
  }
  const option = {
    tooltip: { trigger: 'item', confine: true, formatter: (p: { name: string; value: Cell; percent: number; marker: string }) => `${p.marker}${esc(p.name)}: <b>${measureText(m.col, p.value)}</b> (${p.percent}%)` },
    legend: { type: 'scroll', bottom: 0, textStyle: FONT, itemWidth: 12, itemHeight: 9 },
    series: [
      {
        type: 'pie',
        radius: ['38%', '68%'],
        center: ['50%', '45%'],
        avoidLabelOverlap: true,
        percentPrecision: 1,
        itemStyle: { borderColor: '#fff', borderWidth: 1 },
        label: { ...FONT, formatter: '{b}\n{d}%' },
        data,
      },
    ],
  }
  return { option, drill: (_s, i) => drills[i] ?? null }
}

function funnel(res: Result): Built {
  const sh = shape(res)
  let steps: { name: string; value: number; col: ResultColumn }[]
  let drills: Drill[]
  if (sh.dims.length === 0) {
    const row = res.rows[0] ?? []
    const ms = sh.measures.filter((m) => !isPercent(m.col))
    steps = ms.map((m) => ({ name: m.col.label, value: num(row[m.index]) ?? 0, col: m.col }))
    drills = ms.map((m) => ({ keys: [], measure: m.m }))
  } else {
    const d0 = sh.dims[0]
    const m = sh.measures[0]
    if (!m) return { option: {}, drill: () => null }
    steps = res.rows.map((r) => ({ name: dimText(res, d0.col, r[d0.index]), value: num(r[m.index]) ?? 0, col: m.col }))
    drills = res.rows.map((r) => ({ keys: [r[d0.index] ?? null], measure: m.m }))
  }
  const first = steps[0]?.value ?? 0
  const rate = (a: number, b: number) => (b > 0 ? percentText(a / b) : '—')
  const conv = (i: number) =>
    i === 0 ? '' : t('reports.chart.funnelConv', { prev: rate(steps[i].value, steps[i - 1].value), first: rate(steps[i].value, first) })
  const data = steps.map((s, i) => ({ name: s.name, value: s.value, conv: conv(i), text: measureText(s.col, String(s.value)) }))
  const option = {
    tooltip: {
      trigger: 'item',
      confine: true,
      formatter: (p: { dataIndex: number; marker: string }) => {
        const d = data[p.dataIndex]
        return `${p.marker}${esc(d.name)}: <b>${d.text}</b>${d.conv ? '<br/>' + esc(d.conv) : ''}`
      },
    },
    series: [
      {
        type: 'funnel',
        sort: 'none',
        left: '2%',
        width: '50%',
        top: 8,
        bottom: 8,
        minSize: '8%',
        gap: 2,
        label: {
          position: 'right',
          formatter: (p: { dataIndex: number }) => {
            const d = data[p.dataIndex]
            return `{n|${d.name}} {v|${d.text}}${d.conv ? `\n{c|${d.conv}}` : ''}`
          },
          rich: { n: { fontSize: 12 }, v: { fontSize: 12, fontWeight: 'bold' }, c: { fontSize: 10, color: '#909399', padding: [2, 0, 0, 0] } },
        },
        labelLine: { length: 8 },
        data: data.map((d) => ({ name: d.name, value: d.value })),
      },
    ],
  }
  return { option, drill: (_s, i) => drills[i] ?? null }
}

/** niceMax rounds a gauge's top up to 1, 2 or 5 × a power of ten. */
function niceMax(v: number): number {
  if (v <= 0) return 1
  const p = Math.pow(10, Math.floor(Math.log10(v)))
  for (const k of [1, 2, 5, 10]) if (k * p >= v) return k * p
  return 10 * p
}

function gauge(res: Result, zh: boolean): Built {
  const sh = shape(res)
  const m = sh.measures[0]
  if (!m) return { option: {}, drill: () => null }
  const value = num(res.rows[0]?.[m.index]) ?? 0
  const max = Number(res.chart_options?.max) || (isPercent(m.col) ? 1 : niceMax(value))
  const option = {
    series: [
      {
        type: 'gauge',
        min: 0,
        max,
        radius: '92%',
        center: ['50%', '58%'],
        progress: { show: true, width: 12 },
        axisLine: { lineStyle: { width: 12 } },
        axisTick: { show: false },
        splitLine: { length: 8, lineStyle: { width: 1 } },
        axisLabel: { ...FONT, distance: 16, formatter: (v: number) => shortNumber(v, zh, m.col) },
        pointer: { width: 4 },
        title: { offsetCenter: [0, '70%'], fontSize: 12 },
        detail: { valueAnimation: true, offsetCenter: [0, '40%'], fontSize: 20, fontWeight: 'bold', formatter: () => measureText(m.col, res.rows[0]?.[m.index] ?? null) },
        data: [{ value, name: m.col.label }],
      },
    ],
  }
  return { option, drill: () => ({ keys: [], measure: m.m }) }
}

function gantt(res: Result): Built {
  const sh = shape(res)
  const d0 = sh.dims[0]
  const [ms, me] = res.columns.filter((c) => c.role === 'measure').map((c) => res.columns.indexOf(c))
  if (!d0 || ms === undefined || me === undefined) return { option: {}, drill: () => null }
  const names = res.rows.map((r) => dimText(res, d0.col, r[d0.index]))
  const time = (v: Cell | undefined) => (typeof v === 'string' ? Date.parse(v) : NaN)
  const data = res.rows
    .map((r, i) => {
      let a = time(r[ms])
      let b = time(r[me])
      if (Number.isNaN(a)) a = b
      if (Number.isNaN(b)) b = a
      if (a > b) [a, b] = [b, a]
      return { value: [i, a, b], raw: [r[ms], r[me]] }
    })
    .filter((d) => !Number.isNaN(d.value[1]))
  const mc = res.columns[ms]
  const ec = res.columns[me]
  const option = {
    tooltip: {
      confine: true,
      formatter: (p: { dataIndex: number; marker: string }) => {
        const d = data[p.dataIndex]
        return `${esc(names[d.value[0]])}<br/>${esc(mc.label)}: ${measureText(mc, d.raw[0] ?? null)}<br/>${esc(ec.label)}: ${measureText(ec, d.raw[1] ?? null)}`
      },
    },
    grid: { left: 8, right: 16, top: 8, bottom: 8, containLabel: true },
    xAxis: { type: 'time', axisLabel: { ...FONT, hideOverlap: true }, splitLine: { show: true } },
    yAxis: { type: 'category', data: names, inverse: true, axisLabel: { ...FONT, width: 110, overflow: 'truncate' } },
    series: [
      {
        type: 'custom',
        encode: { x: [1, 2], y: 0 },
        renderItem: (_params: unknown, api: { value: (i: number) => number; coord: (p: number[]) => number[]; size: (p: number[]) => number[]; style: () => unknown }) => {
          const y = api.value(0)
          const start = api.coord([api.value(1), y])
          const end = api.coord([api.value(2), y])
          const h = api.size([0, 1])[1] * 0.55
          return {
            type: 'rect',
            shape: { x: start[0], y: start[1] - h / 2, width: Math.max(end[0] - start[0], 3), height: h, r: 3 },
            style: api.style(),
          }
        },
        data,
      },
    ],
  }
  return { option, drill: (_s, i) => (data[i] ? { keys: [res.rows[data[i].value[0]][d0.index] ?? null], measure: -1 } : null) }
}

function heatmap(res: Result, zh: boolean): Built {
  const sh = shape(res)
  const [d0, d1] = sh.dims
  const m = sh.measures[0]
  if (!d0 || !d1 || !m) return { option: {}, drill: () => null }
  const ys = distinct(res.rows, d0.index)
  const xs = distinct(res.rows, d1.index).sort((a, b) => String(a ?? '').localeCompare(String(b ?? '')))
  const key = (v: Cell | undefined) => JSON.stringify(v ?? null)
  const xi = new Map(xs.map((x, i) => [key(x), i]))
  const yi = new Map(ys.map((y, i) => [key(y), i]))
  const data = res.rows.map((r) => [xi.get(key(r[d1.index])) ?? 0, yi.get(key(r[d0.index])) ?? 0, num(r[m.index]) ?? 0])
  const max = Math.max(1, ...data.map((d) => d[2]))
  const option = {
    tooltip: {
      confine: true,
      formatter: (p: { dataIndex: number }) => {
        const d = data[p.dataIndex]
        return `${esc(dimText(res, d0.col, ys[d[1]]))} · ${esc(dimText(res, d1.col, xs[d[0]]))}<br/>${esc(m.col.label)}: <b>${measureText(m.col, String(d[2]))}</b>`
      },
    },
    grid: { left: 8, right: 12, top: 8, bottom: 44, containLabel: true },
    xAxis: { type: 'category', data: xs.map((x) => dimText(res, d1.col, x)), axisLabel: { ...FONT, hideOverlap: true }, splitArea: { show: true } },
    yAxis: { type: 'category', data: ys.map((y) => dimText(res, d0.col, y)), axisLabel: { ...FONT, width: 90, overflow: 'truncate' }, splitArea: { show: true } },
    visualMap: {
      min: 0,
      max,
      calculable: false,
      orient: 'horizontal',
      left: 'center',
      bottom: 0,
      itemHeight: 120,
      itemWidth: 10,
      textStyle: FONT,
      formatter: (v: number) => shortNumber(v, zh, m.col),
      inRange: { color: ['#ecf5ff', '#79bbff', '#337ecc'] },
    },
    series: [{ type: 'heatmap', data, emphasis: { itemStyle: { borderColor: '#333', borderWidth: 1 } } }],
  }
  return { option, drill: (_s, i) => (data[i] ? { keys: [ys[data[i][1]], xs[data[i][0]]], measure: m.m } : null) }
}

/** buildOption is the ECharts option of a result drawn as `chart`. */
export function buildOption(res: Result, chart: ChartType, zh: boolean): Built {
  switch (chart) {
    case 'bar':
    case 'line':
    case 'area':
      return cartesian(res, chart, zh)
    case 'pie':
      return pie(res)
    case 'funnel':
      return funnel(res)
    case 'gauge':
      return gauge(res, zh)
    case 'gantt':
      return gantt(res)
    case 'heatmap':
      return heatmap(res, zh)
  }
  return { option: {}, drill: () => null }
}
