// Calls of the crm module (internal/module/crm): duplicates, conversion,
// merge, bulk transfer, the account 360° overview and web-form embedding.
import { api, API_BASE } from './client'
import type { RecordData } from './types'

const enc = encodeURIComponent

export type MatchKey = 'company' | 'phone' | 'email'

export interface Duplicate {
  entity: 'leads' | 'accounts'
  id: string
  title: string
  owner?: string
  status?: string
  match: MatchKey[]
}

export interface DuplicateQuery {
  entity: 'leads' | 'accounts'
  company?: string
  phone?: string
  email?: string
  exclude?: string
}

export interface Converted {
  lead: RecordData
  account: RecordData
  contact: RecordData | null
  opportunity: RecordData | null
  account_reused: boolean
}

export interface DecisionGroup {
  role: string
  contacts: RecordData[]
}

export interface TimelineItem {
  kind: 'activity' | 'history'
  at: string
  record?: RecordData
  action?: string
  actor?: string
  source?: string
  fields?: string[]
}

export interface FileRef {
  id: string
  field: string
  entity: string
  record: string
  description?: string
}

export interface Overview {
  account: RecordData
  decision_chain: DecisionGroup[]
  opportunities: RecordData[]
  timeline: TimelineItem[]
  credit: Record<string, unknown> | null
  files: FileRef[]
  counts: Record<string, number>
}

export const crm = {
  duplicates: (q: DuplicateQuery, signal?: AbortSignal) =>
    api
      .get<{ items: Duplicate[] }>('/crm/duplicates', { query: { ...q }, signal })
      .then((r) => r.data.items),
  convert: (lead: string, body: { account?: string; create_opportunity?: boolean; opportunity?: Record<string, unknown> }) =>
    api.post<Converted>(`/records/leads/${enc(lead)}/actions/convert`, body).then((r) => r.data),
  merge: (winner: string, others: string[], fields: Record<string, string>) =>
    api.post<RecordData>(`/records/leads/${enc(winner)}/actions/merge`, { others, fields }).then((r) => r.data),
  transfer: (from: string, to: string, entities: string[]) =>
    api.post<{ counts: Record<string, number> }>('/crm/transfer', { from, to, entities }).then((r) => r.data.counts),
  overview: (account: string) => api.get<Overview>(`/crm/accounts/${enc(account)}/overview`).then((r) => r.data),
}

/** The public address of a web form's endpoint and script. */
export function publicFormUrl(key: string, origin = window.location.origin): string {
  return `${origin}${API_BASE}/public/forms/${enc(key)}`
}

/** The snippets a site pastes to show a web form. */
export function embedSnippets(key: string, origin?: string): { script: string; html: string } {
  const url = publicFormUrl(key, origin)
  return {
    script: `<div id="tenon-form-${key}"></div>\n<script src="${url}/embed.js" async></script>`,
    html:
      `<form action="${url}" method="post">\n` +
      `  <input name="company" placeholder="公司名称 / Company" required>\n` +
      `  <input name="contact_name" placeholder="姓名 / Name">\n` +
      `  <input name="phone" type="tel" placeholder="电话 / Phone">\n` +
      `  <input name="email" type="email" placeholder="邮箱 / E-mail">\n` +
      `  <textarea name="requirement" placeholder="需求 / Needs"></textarea>\n` +
      `  <input name="website_url" tabindex="-1" autocomplete="off" style="position:absolute;left:-10000px" aria-hidden="true">\n` +
      `  <button type="submit">提交 / Send</button>\n` +
      `</form>`,
  }
}
