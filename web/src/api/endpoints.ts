// Typed wrappers over the API paths the app uses (API.md).
import { api, type Query } from './client'
import type { ApiToken, EntityMeta, FileInfo, HistoryEntry, ListResult, Me, RecordData, SearchGroup } from './types'

const enc = encodeURIComponent

export const auth = {
  login: (login: string, password: string) =>
    api.post<Me>('/auth/login', { login, password }, { allow401: true }).then((r) => r.data),
  logout: () => api.post<null>('/auth/logout', undefined, { allow401: true }),
  me: () => api.get<Me>('/auth/me', { allow401: true }).then((r) => r.data),
  /** Sets a password: one's own needs the current one; an admin resetting someone else's sends only the new one. */
  setPassword: (userId: string, password: string, currentPassword?: string) =>
    api.post<null>(
      `/records/users/${enc(userId)}/actions/set_password`,
      currentPassword === undefined ? { password } : { password, current_password: currentPassword },
    ),
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

/** The global search box: q in every entity the caller may read. */
export const search = {
  all: (q: string, perEntity = 5, signal?: AbortSignal) =>
    api.get<{ items: SearchGroup[] }>('/search', { query: { q, per_entity: perEntity }, signal }).then((r) => r.data.items),
}

/** API tokens of the signed-in user (admins). */
export const tokens = {
  list: () => api.get<{ items: ApiToken[] }>('/auth/tokens').then((r) => r.data.items),
  create: (body: { name: string; scopes: string[]; expires_at?: string | null }) =>
    api.post<ApiToken>('/auth/tokens', body).then((r) => r.data),
  revoke: (id: string) => api.del(`/auth/tokens/${enc(id)}`),
}

/**
 * The scopes a token may carry (internal/platform/auth.AllScopes). The
 * server has no endpoint that lists them, so they are repeated here.
 */
export const TOKEN_SCOPES = ['records:read', 'records:write', 'meta:read', 'meta:write', 'files:read', 'files:write', 'admin'] as const

/**
 * listAll reads every page of a small entity (departments, regions, views),
 * up to `max` records.
 */
export async function listAll(entity: string, p: ListParams = {}, max = 2000): Promise<RecordData[]> {
  const out: RecordData[] = []
  for (let page = 1; out.length < max; page++) {
    const res = await records.list(entity, { ...p, page, per_page: 500, count: 'none' })
    out.push(...res.items)
    if (res.items.length < 500) break
  }
  return out
}

/** runLimited runs fn over items, at most `parallel` at once, and collects each outcome. */
export async function runLimited<T, R>(
  items: T[],
  fn: (item: T, index: number) => Promise<R>,
  parallel = 4,
): Promise<({ ok: true; value: R } | { ok: false; error: unknown })[]> {
  const out: ({ ok: true; value: R } | { ok: false; error: unknown })[] = new Array(items.length)
  let next = 0
  async function worker() {
    while (next < items.length) {
      const i = next++
      try {
        out[i] = { ok: true, value: await fn(items[i], i) }
      } catch (error) {
        out[i] = { ok: false, error }
      }
    }
  }
  await Promise.all(Array.from({ length: Math.min(parallel, items.length) }, worker))
  return out
}
