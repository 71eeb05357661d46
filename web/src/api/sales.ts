// Typed calls of the sales screens (internal/module/sales): the pipeline
// board and its columns, the stage actions of an opportunity, the weighted
// forecast, the funnel, the sales cycle and the targets' attainment. Money
// arrives as decimal strings; a figure the caller may not see is null.
import { api } from './client'
import { records } from './endpoints'
import type { RecordData } from './types'

export interface Stage {
  name: string
  /** the name shown in English (empty: name) */
  name_en?: string
  code: string
  probability: string
  kind: 'open' | 'won' | 'lost'
  required_fields: string[] | null
  reach: number
}

export interface Pipeline {
  id: string
  name: string
  is_default: boolean
  stages: Stage[]
}

/** A board card: the card fields of an opportunity the caller may read. */
export interface OppCard extends RecordData {
  name?: string
  account?: string | null
  stage?: string
  status?: string
  amount?: string | null
  probability?: string | null
  expected_close?: string | null
  key_deal?: boolean | null
  owner?: string | null
  last_activity_at?: string | null
  updated_at?: string
}

export interface BoardColumn {
  stage: Stage
  count: number
  amount: string | null
  weighted: string | null
  items: OppCard[]
  more: boolean
}

export interface Board {
  pipeline: Pipeline
  columns: BoardColumn[]
  closed_since: string
}

export interface ForecastRow {
  period: string
  from: string
  open: number
  amount: string | null
  weighted: string | null
  won: number
  won_amount: string | null
}

export interface Forecast {
  period: 'month' | 'quarter'
  from: string
  to: string
  rows: ForecastRow[]
  total: ForecastRow
}

export interface Funnel {
  from: string
  to: string
  pipeline: Pipeline
  leads: number | null
  opportunities: number
  stages: { stage: string; name: string; name_en?: string; count: number }[]
  won: number
  lost: number
}

export interface CycleRow {
  key: string
  won: number
  avg_days: string
  amount: string | null
}

export interface AttainmentRow {
  target: string
  kind: 'user' | 'department'
  user: string | null
  department: string | null
  name: string
  product_line: string | null
  amount: string
  won: string | null
  attainment: string | null
}

export interface BoardQuery {
  pipeline?: string
  filter?: string
  per_stage?: number
}

const enc = encodeURIComponent

export const sales = {
  async board(q: BoardQuery): Promise<Board> {
    return (await api.get<Board>('/sales/board', { query: { ...q } })).data
  },
  async column(stage: string, q: BoardQuery, page: number): Promise<BoardColumn> {
    return (await api.get<BoardColumn>(`/sales/board/${enc(stage)}`, { query: { ...q, page } })).data
  },
  async pipelines(): Promise<{ id: string; name: string; is_default: boolean }[]> {
    const res = await records.list('pipelines', { fields: ['id', 'name', 'is_default'], sort: 'name', per_page: 100 })
    return res.items.map((r) => ({ id: r.id, name: String(r.name ?? r.id), is_default: !!r.is_default }))
  },
  moveStage: (id: string, stage: string) => records.action('opportunities', id, 'move_stage', { stage }),
  win: (id: string, reason: string) => records.action('opportunities', id, 'win', { reason: reason || null }),
  lose: (id: string, lossReason: string, note: string) => records.action('opportunities', id, 'lose', { loss_reason: lossReason, note: note || null }),
  async forecast(period: string, from?: string, to?: string): Promise<Forecast> {
    return (await api.get<Forecast>('/sales/forecast', { query: { period, from, to } })).data
  },
  async funnel(from?: string, to?: string): Promise<Funnel> {
    return (await api.get<Funnel>('/sales/funnel', { query: { from, to } })).data
  },
  async cycle(groupBy: string, from?: string, to?: string): Promise<CycleRow[]> {
    return (await api.get<{ items: CycleRow[] }>('/sales/cycle', { query: { group_by: groupBy, from, to } })).data.items
  },
  async attainment(period: string, periodStart: string): Promise<AttainmentRow[]> {
    return (await api.get<{ items: AttainmentRow[] }>('/sales/attainment', { query: { period, period_start: periodStart } })).data.items
  },
  /** titles reads the names of records of entity (accounts, users) the caller may read, by id. */
  async titles(entity: string, ids: string[], field = 'name'): Promise<Record<string, string>> {
    const out: Record<string, string> = {}
    const uniq = [...new Set(ids.filter(Boolean))]
    for (let i = 0; i < uniq.length; i += 200) {
      const part = uniq.slice(i, i + 200)
      const res = await records.list(entity, { filter: `id in [${part.join(', ')}]`, fields: ['id', field], per_page: 200, count: 'none' })
      for (const r of res.items) out[r.id] = String(r[field] ?? r.id)
    }
    return out
  },
}
