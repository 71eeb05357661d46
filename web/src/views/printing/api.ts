// Calls of the print-template engine: PDFs of records and of draft
// templates (fetched as blobs, shown through object URLs), and the print
// menu of an entity.
import { api, ApiError, buildUrl } from '@/api/client'
import type { Problem } from '@/api/types'
import { locale } from '@/i18n'
import { useSession } from '@/stores/session'
import { fileNameOf } from '@/api/transfer'

/** A template offered in a record's print menu. */
export interface PrintChoice {
  id: string
  name: string
  is_default: boolean
  paper: string
}

/** A draft template previewed on a record. */
export interface PreviewDraft {
  entity: string
  record: string
  name?: string
  body: string
  header?: string
  footer?: string
  paper?: string
  lang?: string
  logo?: string
}

/** A PDF fetched from the API. */
export interface Pdf {
  blob: Blob
  name: string
}

const enc = encodeURIComponent

/** The active templates of an entity the user may print with. */
export function printChoices(entity: string): Promise<PrintChoice[]> {
  return api.get<{ items: PrintChoice[] }>(`/print-templates/for/${enc(entity)}`).then((r) => r.data.items)
}

/** A record printed with a template ('' for the entity's default). */
export function printRecord(entity: string, id: string, template = '', signal?: AbortSignal): Promise<Pdf> {
  return fetchPdf('GET', buildUrl(`/records/${enc(entity)}/${enc(id)}/print`, { template }), undefined, signal)
}

/** A draft template printed on a record (not logged). */
export function previewDraft(d: PreviewDraft, signal?: AbortSignal): Promise<Pdf> {
  return fetchPdf('POST', buildUrl('/print-templates/preview'), d, signal)
}

async function fetchPdf(method: string, url: string, body: unknown, signal?: AbortSignal): Promise<Pdf> {
  const headers: Record<string, string> = { Accept: 'application/pdf, application/problem+json', 'Accept-Language': locale.value }
  if (body !== undefined) headers['Content-Type'] = 'application/json'
  const csrf = useSession().me?.csrf_token
  if (method !== 'GET' && csrf) headers['X-CSRF-Token'] = csrf
  let res: Response
  try {
    res = await fetch(url, { method, headers, body: body === undefined ? undefined : JSON.stringify(body), credentials: 'same-origin', signal })
  } catch (e) {
    if (e instanceof DOMException && e.name === 'AbortError') throw e
    throw new ApiError(0, null)
  }
  if (!res.ok) throw new ApiError(res.status, (await res.json().catch(() => null)) as Partial<Problem> | null, res.headers)
  return { blob: await res.blob(), name: fileNameOf(res.headers.get('Content-Disposition')) ?? 'print.pdf' }
}

/** saveBlob downloads a PDF under its name. */
export function saveBlob(pdf: Pdf): void {
  const href = URL.createObjectURL(pdf.blob)
  const a = document.createElement('a')
  a.href = href
  a.download = pdf.name
  document.body.appendChild(a)
  a.click()
  a.remove()
  setTimeout(() => URL.revokeObjectURL(href), 10000)
}
