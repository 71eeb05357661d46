// The one HTTP client of the app: every call to /api/v1 goes through
// request(). It sends JSON, the CSRF token on unsafe methods, the current
// locale as Accept-Language and If-Match when asked, and turns
// problem+json answers into ApiError.
import type { Problem } from './types'

export const API_BASE = '/api/v1'

/** A failed API call, carrying the problem+json body when there was one. */
export class ApiError extends Error {
  readonly status: number
  readonly title: string
  readonly detail: string
  readonly code: string
  /** Per-field messages of a 422, keyed by field path ("email", "lines[0].qty"). */
  readonly fieldErrors: Record<string, string>
  readonly headers: Headers | null

  constructor(status: number, problem: Partial<Problem> | null, headers: Headers | null = null) {
    const title = problem?.title || (status ? `HTTP ${status}` : 'Network error')
    super(problem?.detail || title)
    this.name = 'ApiError'
    this.status = status
    this.title = title
    this.detail = problem?.detail || ''
    this.code = problem?.code || ''
    this.headers = headers
    this.fieldErrors = {}
    for (const e of problem?.errors ?? []) {
      if (e.field && !(e.field in this.fieldErrors)) this.fieldErrors[e.field] = e.message || e.code || ''
    }
  }

  /** Seconds to wait before retrying a 429, when the server said so. */
  get retryAfter(): number | null {
    const v = this.headers?.get('Retry-After')
    const n = v ? Number.parseInt(v, 10) : NaN
    return Number.isFinite(n) ? n : null
  }
}

interface ClientState {
  csrf: string
  locale: () => string
  onUnauthenticated: () => void
}

const state: ClientState = {
  csrf: '',
  locale: () => 'zh-CN',
  onUnauthenticated: () => {},
}

/** configure wires the client to the session and i18n (done once in main.ts). */
export function configure(opts: Partial<ClientState>): void {
  Object.assign(state, opts)
}

export function setCsrf(token: string | undefined): void {
  state.csrf = token ?? ''
}

export type Query = Record<string, string | number | boolean | undefined | null>

export interface RequestOptions {
  query?: Query
  body?: unknown
  /** Version the change is based on; sent as If-Match: "v". */
  ifMatch?: number | string
  headers?: Record<string, string>
  signal?: AbortSignal
  /** Do not treat a 401 as "session ended" (the login call). */
  allow401?: boolean
}

export interface Response<T> {
  data: T
  status: number
  /** Version from the ETag header ("7" → 7), when present. */
  version: number | null
  headers: Headers
}

export function buildUrl(path: string, query?: Query): string {
  let url = API_BASE + path
  if (query) {
    const qs = new URLSearchParams()
    for (const [k, v] of Object.entries(query)) {
      if (v !== undefined && v !== null && v !== '') qs.set(k, String(v))
    }
    const s = qs.toString()
    if (s) url += '?' + s
  }
  return url
}

function parseETag(h: string | null): number | null {
  if (!h) return null
  const n = Number.parseInt(h.replace(/^W\//, '').replace(/"/g, ''), 10)
  return Number.isFinite(n) ? n : null
}

/** request performs one API call and returns the decoded body. */
export async function request<T>(method: string, path: string, opts: RequestOptions = {}): Promise<Response<T>> {
  const headers: Record<string, string> = {
    Accept: 'application/json, application/problem+json',
    'Accept-Language': state.locale(),
    ...opts.headers,
  }
  let body: BodyInit | undefined
  if (opts.body instanceof FormData) {
    body = opts.body
  } else if (opts.body !== undefined) {
    headers['Content-Type'] = 'application/json'
    body = JSON.stringify(opts.body)
  }
  if (method !== 'GET' && method !== 'HEAD' && state.csrf) headers['X-CSRF-Token'] = state.csrf
  if (opts.ifMatch !== undefined && opts.ifMatch !== null && opts.ifMatch !== '') headers['If-Match'] = `"${opts.ifMatch}"`

  let res: globalThis.Response
  try {
    res = await fetch(buildUrl(path, opts.query), {
      method,
      headers,
      body,
      credentials: 'same-origin',
      signal: opts.signal,
    })
  } catch (e) {
    if (e instanceof DOMException && e.name === 'AbortError') throw e
    throw new ApiError(0, null)
  }
  const text = res.status === 204 ? '' : await res.text()
  let parsed: unknown = null
  if (text) {
    try {
      parsed = JSON.parse(text)
    } catch {
      parsed = null
    }
  }
  if (!res.ok) {
    if (res.status === 401 && !opts.allow401) state.onUnauthenticated()
    throw new ApiError(res.status, (parsed as Partial<Problem>) ?? null, res.headers)
  }
  return { data: parsed as T, status: res.status, version: parseETag(res.headers.get('ETag')), headers: res.headers }
}

export const api = {
  get: <T>(path: string, opts?: RequestOptions) => request<T>('GET', path, opts),
  post: <T>(path: string, body?: unknown, opts?: RequestOptions) => request<T>('POST', path, { ...opts, body }),
  patch: <T>(path: string, body?: unknown, opts?: RequestOptions) => request<T>('PATCH', path, { ...opts, body }),
  put: <T>(path: string, body?: unknown, opts?: RequestOptions) => request<T>('PUT', path, { ...opts, body }),
  del: <T = null>(path: string, opts?: RequestOptions) => request<T>('DELETE', path, opts),
}

/** fileUrl is where a stored file (file, image, signature field) is read. */
export function fileUrl(id: string): string {
  return `${API_BASE}/files/${encodeURIComponent(id)}`
}
