// Typed calls of the transfer screens: CSV/XLSX imports (upload, mapping,
// dry run, run, progress, error report, template), exports of a list, and
// the outbound allow-list of webhooks, rule calls and group robots
// (internal/engine/importer, internal/engine/exporter,
// internal/platform/netguard). Exports are plain GET links (the session
// cookie authenticates them, GET needs no CSRF token, and the file streams
// to disk); templates and error reports are fetched (fetchDownload) so that
// they follow the app's language and a refusal shows as a message.
import { ApiError, api, buildUrl, type Query } from './client'
import type { Problem } from './types'
import { locale } from '@/i18n'

const enc = encodeURIComponent

// ---------------------------------------------------------------- imports

export type ImportStatus = 'uploaded' | 'checked' | 'queued' | 'running' | 'done' | 'failed' | 'cancelled'
export type DedupeMatch = 'exact' | 'company'
export type DedupeMode = 'skip' | 'update' | 'create'
export type FileFormat = 'csv' | 'xlsx'

export interface Dedupe {
  /** The field compared with existing records ("" = no de-duplication). */
  field: string
  match: DedupeMatch
  mode: DedupeMode
}

/** One import as the API returns it (GET /imports/{id}). */
export interface Import {
  id: string
  entity: string
  file_name: string
  format: FileFormat
  /** What a CSV was read as ('' for XLSX). */
  encoding: string
  status: ImportStatus
  columns: string[]
  sample: string[][]
  rows: number
  /** Column header → field name ("" = ignored). */
  mapping: Record<string, string>
  dedupe: Dedupe
  total: number
  processed: number
  created: number
  updated: number
  skipped: number
  failed: number
  error: string
  created_at: string
  created_by: string
  started_at: string | null
  finished_at: string | null
}

/** One refused cell or row of a dry run (row: the spreadsheet's row number, the header is 1). */
export interface RowError {
  row: number
  column: string
  field: string
  code: string
  message: string
}

export interface DryRun {
  total: number
  valid: number
  invalid: number
  create: number
  update: number
  skip: number
  /** The first 200 errors. */
  errors: RowError[]
}

/**
 * The import limits the server applies by default (internal/engine/importer
 * Config): the upload screen states them, and a file over the size limit
 * is refused before it is sent.
 */
export const IMPORT_LIMITS = { bytes: 50 * 1024 * 1024, rows: 200_000, columns: 200 }

/** Statuses after which nothing more happens to an import. */
export const FINISHED: ImportStatus[] = ['done', 'failed', 'cancelled']
/** Statuses in which the mapping can still change and the run be started. */
export const EDITABLE: ImportStatus[] = ['uploaded', 'checked']

/** The page size of GET /imports. */
export const IMPORTS_PER_PAGE = 50

export const imports = {
  upload: (entity: string, file: File) => {
    const fd = new FormData()
    fd.append('entity', entity)
    fd.append('file', file, file.name)
    return api.post<Import>('/imports', fd).then((r) => r.data)
  },
  get: (id: string) => api.get<Import>(`/imports/${enc(id)}`).then((r) => r.data),
  list: (o: { entity?: string; page?: number } = {}) => api.get<{ items: Import[] }>('/imports', { query: o }).then((r) => r.data.items ?? []),
  patch: (id: string, body: { mapping?: Record<string, string>; dedupe?: Dedupe }) => api.patch<Import>(`/imports/${enc(id)}`, body).then((r) => r.data),
  dryRun: (id: string) => api.post<DryRun>(`/imports/${enc(id)}/dry-run`).then((r) => r.data),
  start: (id: string) => api.post<Import>(`/imports/${enc(id)}/start`).then((r) => r.data),
  cancel: (id: string) => api.post<Import>(`/imports/${enc(id)}/cancel`).then((r) => r.data),
}

/** Where the failing rows of an import are downloaded (their columns plus row number and error). */
export const errorReportUrl = (id: string, format: FileFormat = 'xlsx') => buildUrl(`/imports/${enc(id)}/errors`, { format })

/** Where an entity's import template (one header row, required columns marked "*") is downloaded. */
export const templateUrl = (entity: string, format: FileFormat = 'xlsx') => buildUrl(`/imports/template/${enc(entity)}`, { format })

// ----------------------------------------------------------------- export

export interface ExportQuery {
  filter?: string
  sort?: string
  q?: string
  fields?: string[]
}

/** The download address of a list as the user sees it (filter, sort, search, columns). */
export function exportUrl(entity: string, format: FileFormat, o: ExportQuery = {}): string {
  // A link cannot send Accept-Language: the file's labels follow the app's language through lang.
  const query: Query = { format, filter: o.filter, sort: o.sort, q: o.q, fields: o.fields?.length ? o.fields.join(',') : undefined, lang: locale.value }
  return buildUrl(`/records/${enc(entity)}/export`, query)
}

// ------------------------------------------------------ outbound allow-list

/** The hosts that outbound calls (webhooks, rule calls, group robots) may reach although they are private. */
export interface OutboundSettings {
  /** Host names, IP addresses or CIDR ranges, each optionally with a port (canonical spelling). */
  allow: string[]
  updated_at?: string | null
  updated_by?: string | null
}

export const outbound = {
  get: () => api.get<OutboundSettings>('/settings/outbound').then((r) => r.data),
  put: (allow: string[]) => api.put<OutboundSettings>('/settings/outbound', { allow }).then((r) => r.data),
}

// --------------------------------------------------------------- downloads

/** fileNameOf reads the file name of a Content-Disposition header (RFC 6266: filename* first). */
export function fileNameOf(header: string | null): string | null {
  if (!header) return null
  const star = /filename\*\s*=\s*([^']*)'[^']*'([^;]+)/i.exec(header)
  if (star) {
    try {
      return decodeURIComponent(star[2].trim())
    } catch {
      /* fall back to filename= */
    }
  }
  const plain = /filename\s*=\s*"((?:[^"\\]|\\.)*)"|filename\s*=\s*([^;]+)/i.exec(header)
  if (plain) return (plain[1] ?? plain[2] ?? '').replace(/\\(.)/g, '$1').trim() || null
  return null
}

/**
 * fetchDownload fetches a file of the API in the app's language
 * (Accept-Language) and saves it under the name the server gives; a
 * refusal is thrown as an ApiError. For files of bounded size (templates,
 * error reports): the whole file passes through memory.
 */
export async function fetchDownload(url: string, fallbackName: string): Promise<void> {
  let res: Response
  try {
    res = await fetch(url, { headers: { 'Accept-Language': locale.value }, credentials: 'same-origin' })
  } catch {
    throw new ApiError(0, null)
  }
  if (!res.ok) {
    let problem: Partial<Problem> | null = null
    try {
      problem = (await res.json()) as Partial<Problem>
    } catch {
      problem = null
    }
    throw new ApiError(res.status, problem, res.headers)
  }
  const blob = await res.blob()
  const href = URL.createObjectURL(blob)
  const a = document.createElement('a')
  a.href = href
  a.download = fileNameOf(res.headers.get('Content-Disposition')) ?? fallbackName
  document.body.appendChild(a)
  a.click()
  a.remove()
  setTimeout(() => URL.revokeObjectURL(href), 10000)
}

/** saveText saves text made in the browser as a file. */
export function saveText(text: string, name: string, type: string): void {
  const href = URL.createObjectURL(new Blob([text], { type }))
  const a = document.createElement('a')
  a.href = href
  a.download = name
  document.body.appendChild(a)
  a.click()
  a.remove()
  setTimeout(() => URL.revokeObjectURL(href), 10000)
}
