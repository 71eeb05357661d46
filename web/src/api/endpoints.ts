// Typed wrappers over the API paths the app uses (API.md).
import { api, type Query } from './client'
import type { EntityMeta, FileInfo, HistoryEntry, ListResult, Me, RecordData } from './types'

const enc = encodeURIComponent

export const auth = {
  login: (login: string, password: string) =>
    api.post<Me>('/auth/login', { login, password }, { allow401: true }).then((r) => r.data),
  logout: () => api.post<null>('/auth/logout', undefined, { allow401: true }),
  me: () => api.get<Me>('/auth/me', { allow401: true }).then((r) => r.data),
  setPassword: (userId: string, password: string) =>
    api.post<null>(`/records/users/${enc(userId)}/actions/set_password`, { password }),
}

export const meta = {
  entities: () => api.get<{ items: EntityMeta[] }>('/meta/entities').then((r) => r.data.items),
  entity: (name: string) => api.get<EntityMeta>(`/meta/entities/${enc(name)}`).then((r) => r.data),
}

export interface ListParams {
  filter?: string
  sort?: string
  page?: number
  per_page?: number
  fields?: string[]
  q?: string
  expand?: string[]
  count?: 'exact' | 'none'
  deleted?: boolean
}

function listQuery(p: ListParams): Query {
  return {
    filter: p.filter?.trim() || undefined,
    sort: p.sort || undefined,
    page: p.page,
    per_page: p.per_page,
    fields: p.fields?.length ? p.fields.join(',') : undefined,
    q: p.q?.trim() || undefined,
    expand: p.expand?.length ? p.expand.join(',') : undefined,
    count: p.count,
    deleted: p.deleted ? 'true' : undefined,
  }
}

export const records = {
  list: (entity: string, p: ListParams = {}, signal?: AbortSignal) =>
    api.get<ListResult>(`/records/${enc(entity)}`, { query: listQuery(p), signal }).then((r) => r.data),
  get: (entity: string, id: string, opts: { expand?: string[]; deleted?: boolean } = {}) =>
    api.get<RecordData>(`/records/${enc(entity)}/${enc(id)}`, {
      query: { expand: opts.expand?.length ? opts.expand.join(',') : undefined, deleted: opts.deleted ? 'true' : undefined },
    }),
  create: (entity: string, body: Record<string, unknown>, idempotencyKey?: string) =>
    api.post<RecordData>(`/records/${enc(entity)}`, body, {
      headers: idempotencyKey ? { 'Idempotency-Key': idempotencyKey } : undefined,
    }),
  patch: (entity: string, id: string, body: Record<string, unknown>, version?: number) =>
    api.patch<RecordData>(`/records/${enc(entity)}/${enc(id)}`, body, { ifMatch: version }),
  remove: (entity: string, id: string, version?: number) =>
    api.del(`/records/${enc(entity)}/${enc(id)}`, { ifMatch: version }),
  restore: (entity: string, id: string) => api.post<RecordData>(`/records/${enc(entity)}/${enc(id)}/restore`),
  history: (entity: string, id: string, before?: string) =>
    api
      .get<{ items: HistoryEntry[] }>(`/records/${enc(entity)}/${enc(id)}/history`, { query: { before } })
      .then((r) => r.data.items),
  action: (entity: string, id: string, action: string, body?: Record<string, unknown>) =>
    api.post<RecordData | null>(`/records/${enc(entity)}/${enc(id)}/actions/${enc(action)}`, body ?? {}),
}

export const files = {
  upload: (file: Blob, name: string) => {
    const fd = new FormData()
    fd.append('file', file, name)
    return api.post<FileInfo>('/files', fd).then((r) => r.data)
  },
}

export interface SearchGroup {
  entity: EntityMeta
  items: RecordData[]
  total: number | null
  error?: string
}

/**
 * searchAll is the global search box. The server has no cross-entity search
 * endpoint yet, so it asks each entity's list with `q`, a few at a time, and
 * keeps the entities that found something. Replace the body with one call
 * when the server grows an endpoint; callers only see SearchGroup[].
 */
export async function searchAll(q: string, entities: EntityMeta[], opts: { perEntity?: number; parallel?: number; signal?: AbortSignal } = {}): Promise<SearchGroup[]> {
  const per = opts.perEntity ?? 5
  const parallel = opts.parallel ?? 4
  const out: SearchGroup[] = new Array(entities.length)
  let next = 0
  async function worker() {
    while (next < entities.length) {
      const i = next++
      const e = entities[i]
      try {
        const fields = ['id', ...(e.title_field ? [e.title_field] : [])]
        const res = await records.list(e.name, { q, per_page: per, fields, count: undefined }, opts.signal)
        out[i] = { entity: e, items: res.items, total: res.total }
      } catch (err) {
        if (err instanceof DOMException && err.name === 'AbortError') throw err
        out[i] = { entity: e, items: [], total: 0, error: (err as Error).message }
      }
    }
  }
  await Promise.all(Array.from({ length: Math.min(parallel, entities.length) }, worker))
  return out.filter((g) => g && g.items.length > 0)
}
