// Typed calls of the lead pool screens (internal/module/leadpool): the pools
// the caller may use, a pool's leads, the lead actions and the lead KPIs.
import { api } from './client'

export interface LeadPool {
  id: string
  name: string
  region: string | null
  recycle_days: number
  claim_cap: number
  /** Leads of the pool the caller may read. */
  count: number
}

export interface PoolLead {
  id: string
  company: string
  contact_name?: string | null
  region?: string | null
  industry?: string | null
  product_line?: string | null
  source?: string | null
  pooled_at?: string | null
  return_reason?: string | null
  [k: string]: unknown
}

export interface LeadKPIs {
  from: string
  to: string
  total: number
  by_source: { source: string; count: number }[]
  valid: number | null
  valid_rate: number | null
  converted: number | null
  conversion_rate: number | null
  responded: number | null
  avg_first_response_minutes: number | null
}

const enc = encodeURIComponent

export const leadpool = {
  async pools(): Promise<{ items: LeadPool[]; claimed: number }> {
    return (await api.get<{ items: LeadPool[]; claimed: number }>('/lead-pools')).data
  },
  async leads(pool: string, page: number, perPage: number, q: string): Promise<{ items: PoolLead[]; total: number | null }> {
    return (await api.get<{ items: PoolLead[]; total: number | null }>(`/lead-pools/${enc(pool)}/leads`, { query: { page, per_page: perPage, q: q || undefined } })).data
  },
  async kpis(from: string, to: string): Promise<LeadKPIs> {
    return (await api.get<LeadKPIs>('/lead-pools/kpis', { query: { from, to } })).data
  },
  claim: (lead: string) => api.post(`/records/leads/${enc(lead)}/actions/claim`, {}),
  returnLead: (lead: string, reason: string) => api.post(`/records/leads/${enc(lead)}/actions/return`, { reason }),
  assign: (lead: string, user: string) => api.post(`/records/leads/${enc(lead)}/actions/assign`, { user }),
}
