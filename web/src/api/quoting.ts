// Calls of the quoting module (internal/module/quoting): the price lookup
// of the quote editor, the documents' actions, and the print address.
// Money is a decimal string everywhere.
import { api, buildUrl } from './client'
import { records } from './endpoints'
import type { RecordData } from './types'

const enc = encodeURIComponent

/** The answer of GET /quoting/price; unit_cost only for users who may see cost. */
export interface PriceAnswer {
  unit_price: string
  /** Where the price came from: a price book's name (with its volume break), or "product". */
  source: string
  book?: string
  found: boolean
  product: string
  name: string
  unit: string
  unit_cost?: string
}

export interface PriceQuery {
  product: string
  quantity?: string
  account?: string
  currency?: string
  tax_included?: boolean
  tax_rate?: string
}

/** The documents of the module whose screens are its own. */
export type QuotingDoc = 'quotes' | 'contracts' | 'sales_orders'

export const quoting = {
  price: (q: PriceQuery, signal?: AbortSignal) =>
    api
      .get<PriceAnswer>('/quoting/price', {
        query: {
          product: q.product,
          quantity: q.quantity || undefined,
          account: q.account || undefined,
          currency: q.currency || undefined,
          tax_included: q.tax_included === undefined ? undefined : String(q.tax_included),
          tax_rate: q.tax_rate || undefined,
        },
        signal,
      })
      .then((r) => r.data),
  /** action runs a document action; the answer is a record (the same document, or the new revision / contract). */
  action: (entity: QuotingDoc, id: string, name: string, body: Record<string, unknown> = {}) =>
    records.action(entity, id, name, body).then((r) => r.data as RecordData),
}

/** printUrl is where a record's PDF is read (the printing engine's endpoint). */
export function printUrl(entity: string, id: string): string {
  return buildUrl(`/records/${enc(entity)}/${enc(id)}/print`)
}
