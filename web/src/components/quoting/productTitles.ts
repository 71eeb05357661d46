// Titles of catalog products ("QE-100 数控折弯机") for the line grids,
// fetched once per id for the whole app session, and the product search of
// the editor's product cells.
import { reactive } from 'vue'
import { records } from '@/api/endpoints'
import type { RecordData } from '@/api/types'

export interface ProductInfo {
  id: string
  code: string
  name: string
  unit: string
}

const known = reactive(new Map<string, ProductInfo>())
const asked = new Set<string>()

function remember(r: RecordData): ProductInfo {
  const p = { id: r.id, code: String(r.code ?? ''), name: String(r.name ?? ''), unit: String(r.unit ?? '') }
  known.set(r.id, p)
  return p
}

/** productTitle is "code name" of a product, or #id until it is known. */
export function productTitle(id: unknown): string {
  if (id === null || id === undefined || id === '') return ''
  const p = known.get(String(id))
  if (!p) return `#${id}`
  return [p.code, p.name].filter(Boolean).join(' ')
}

/** needProducts reads the products of ids not known yet (ids the user may not read stay #id). */
export async function needProducts(ids: unknown[]): Promise<void> {
  const missing = [...new Set(ids.filter((x) => x !== null && x !== undefined && x !== '').map(String))].filter((x) => !known.has(x) && !asked.has(x))
  if (!missing.length) return
  missing.forEach((x) => asked.add(x))
  try {
    const res = await records.list('products', { filter: `id in [${missing.map((x) => JSON.stringify(x)).join(', ')}]`, fields: ['id', 'code', 'name', 'unit'], per_page: missing.length, count: 'none' })
    res.items.forEach(remember)
  } catch {
    missing.forEach((x) => asked.delete(x))
  }
}

/** searchProducts finds active products by code or name. */
export async function searchProducts(q: string, signal?: AbortSignal): Promise<ProductInfo[]> {
  const res = await records.list('products', { q, filter: 'active == true', fields: ['id', 'code', 'name', 'unit'], sort: q ? undefined : 'code', per_page: 20, count: 'none' }, signal)
  return res.items.map(remember)
}
