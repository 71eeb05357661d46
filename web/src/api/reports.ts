// Calls of the report engine (internal/engine/reports): a report's result
// under the shared dashboard filters, the builder's preview, drill-down
// to the records behind a number, and the XLSX addresses. Reports and
// dashboards themselves are records (/records/reports, /records/dashboards).
// Measures arrive as decimal strings; dimension values as strings (ids too).
import { api, buildUrl, type Query } from './client'
import { listAll, records } from './endpoints'
import type { Label, RecordData } from './types'

const enc = encodeURIComponent

export type ChartType = 'table' | 'pivot' | 'bar' | 'line' | 'area' | 'pie' | 'funnel' | 'kpi' | 'gauge' | 'gantt' | 'heatmap'
export const CHART_TYPES: ChartType[] = ['table', 'pivot', 'bar', 'line', 'area', 'pie', 'funnel', 'kpi', 'gauge', 'gantt', 'heatmap']

export type Bucket = 'day' | 'week' | 'month' | 'quarter' | 'year'
export type MeasureOp = 'count' | 'sum' | 'avg' | 'min' | 'max' | 'count_distinct' | 'sum_product' | 'ratio' | 'compare'
export type MeasureFormat = 'number' | 'money' | 'percent' | 'duration'

export interface Dimension {
  field: string
  bucket?: Bucket
  label?: Label
  values?: Record<string, Label>
}

export interface Measure {
  op: MeasureOp
  field?: string
  times?: string
  since?: string
  unit?: 'minute' | 'hour' | 'day'
  filter?: string
  via?: string
  of?: number[]
  period?: 'previous' | 'year'
  factor?: string
  format?: MeasureFormat
  hidden?: boolean
  label?: Label
}

export interface SortKey {
  column: string
  desc?: boolean
}

/** Chart options the UI defines (the server keeps them as they are). */
export interface ChartOptions {
  stack?: boolean
  horizontal?: boolean
  max?: number
  [k: string]: unknown
}

/** A report definition: what a reports record holds. */
export interface ReportSpec {
  name: string
  name_en?: string
  source: string
  dimensions: Dimension[]
  measures: Measure[]
  filter?: string
  sort?: SortKey[]
  row_limit?: number | null
  date_field?: string
  chart: ChartType
  chart_options?: ChartOptions
}

export interface ReportRecord extends RecordData {
  name: string
  name_en: string | null
  category: string | null
  description: string | null
  source: string
  dimensions: Dimension[] | null
  measures: Measure[] | null
  filter: string | null
  sort: SortKey[] | null
  row_limit: number | null
  date_field: string | null
  chart: ChartType
  chart_options: ChartOptions | null
  shared: boolean | null
  key: string | null
}

export interface ResultColumn {
  key: string
  label: string
  role: 'dimension' | 'measure'
  field?: string
  type?: string
  bucket?: Bucket
  op?: MeasureOp
  format?: MeasureFormat
  unit?: string
  hidden?: boolean
}

export type Cell = string | boolean | number | null

/** A report's result (GET /reports/{id}/data, POST /reports/preview). */
export interface Result {
  report?: string
  name: string
  source: string
  chart: ChartType
  chart_options?: ChartOptions | null
  columns: ResultColumn[]
  rows: Cell[][]
  totals: Cell[] | null
  labels: Record<string, Record<string, string>> | null
  applied: string[] | null
  truncated: boolean
}

/** The filters a dashboard shares with its cards. */
export interface DashFilters {
  preset?: string
  from?: string
  to?: string
  region?: string
  owner?: string
  product_line?: string
}

export const PRESETS = ['this_month', 'this_quarter', 'this_year', 'last_30_days', 'last_90_days', 'last_12_months'] as const

/** One card of a dashboard on its 12-column grid (h in rows). */
export interface LayoutItem {
  report: string
  x: number
  y: number
  w: number
  h: number
}

export interface DashboardRecord extends RecordData {
  name: string
  name_en: string | null
  description: string | null
  layout: LayoutItem[] | null
  filters: DashFilters | null
  shared: boolean | null
  menu_order: number | null
  schedule: 'none' | 'daily' | 'weekly' | 'monthly' | null
  schedule_hour: number | null
  recipients: string[] | null
  last_sent_at: string | null
  key: string | null
}

/** The records behind a number. */
export interface DrillTarget {
  entity: string
  filter: string
}

/** params drops the empty filters (the server reads "" as absent anyway). */
export function filterParams(f: DashFilters | null | undefined): DashFilters {
  const out: DashFilters = {}
  if (!f) return out
  for (const k of ['preset', 'from', 'to', 'region', 'owner', 'product_line'] as const) {
    const v = f[k]
    if (v) out[k] = String(v)
  }
  return out
}

export const reports = {
  data: (id: string, f: DashFilters, signal?: AbortSignal) =>
    api.get<Result>(`/reports/${enc(id)}/data`, { query: { ...filterParams(f) } as Query, signal }).then((r) => r.data),
  preview: (report: ReportSpec, f: DashFilters, signal?: AbortSignal) =>
    api.post<Result>('/reports/preview', { report, params: filterParams(f) }, { signal }).then((r) => r.data),
  drill: (id: string, keys: Cell[], measure: number, f: DashFilters) =>
    api.post<DrillTarget>(`/reports/${enc(id)}/drill`, { keys, measure, params: filterParams(f) }).then((r) => r.data),
  /** xlsxUrl is where a report's workbook is downloaded. */
  xlsxUrl: (id: string, f: DashFilters) => buildUrl(`/reports/${enc(id)}/data`, { ...filterParams(f), format: 'xlsx' } as Query),
  dashboardXlsxUrl: (id: string, f: DashFilters) => buildUrl(`/dashboards/${enc(id)}/export`, { ...filterParams(f) } as Query),
  async list(): Promise<ReportRecord[]> {
    return (await listAll('reports', { sort: 'name' }, 1000)) as ReportRecord[]
  },
  get: (id: string) => records.get('reports', id).then((r) => r.data as ReportRecord),
  create: (body: Record<string, unknown>) => records.create('reports', body).then((r) => r.data as ReportRecord),
  patch: (id: string, body: Record<string, unknown>, version?: number) =>
    records.patch('reports', id, body, version).then((r) => r.data as ReportRecord),
  remove: (id: string, version?: number) => records.remove('reports', id, version),
}

export const dashboards = {
  async list(): Promise<DashboardRecord[]> {
    const items = (await listAll('dashboards', {}, 1000)) as DashboardRecord[]
    return items.sort((a, b) => (a.menu_order ?? 1e9) - (b.menu_order ?? 1e9) || Number(a.id) - Number(b.id))
  },
  get: (id: string) => records.get('dashboards', id).then((r) => r.data as DashboardRecord),
  create: (body: Record<string, unknown>) => records.create('dashboards', body).then((r) => r.data as DashboardRecord),
  patch: (id: string, body: Record<string, unknown>, version?: number) =>
    records.patch('dashboards', id, body, version).then((r) => r.data as DashboardRecord),
  remove: (id: string, version?: number) => records.remove('dashboards', id, version),
  sendNow: (id: string) => records.action('dashboards', id, 'send_now'),
}

/** nextRow is the first free row below every card of a layout. */
export function nextRow(layout: LayoutItem[] | null | undefined): number {
  return (layout ?? []).reduce((m, it) => Math.max(m, it.y + it.h), 0)
}
