// Typed calls of the marketing screens (internal/module/marketing): the
// campaign ROI table.
import { api } from './client'

/** One campaign's line; null figures are hidden from the caller or undefined. */
export interface RoiRow {
  campaign: string
  name: string
  kind?: string
  region?: string
  started_on?: string
  cost: string | null
  leads: number | null
  opportunities: number | null
  wins: number | null
  amount: string | null
  /** wins / leads, e.g. "0.0833" */
  lead_to_win_rate: string | null
  /** (amount − cost) / cost */
  roi: string | null
}

export const marketing = {
  async roi(from?: string, to?: string): Promise<RoiRow[]> {
    return (await api.get<{ items: RoiRow[] }>('/marketing/roi', { query: { from: from || undefined, to: to || undefined } })).data.items
  },
}
