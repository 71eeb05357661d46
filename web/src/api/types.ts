// Shapes the server returns that openapi.json leaves untyped (entity and
// field metadata, the auth envelope, history entries). They mirror
// internal/platform/meta (Entity, Field) and the httpapi handlers; the
// generated schema.d.ts covers the rest (Problem, record paths).
import type { components } from './schema'

/** A text in several languages, keyed "zh-CN" and "en". */
export type Label = Partial<Record<'zh-CN' | 'en', string>> & Record<string, string | undefined>

export interface FieldOption {
  value: string
  label?: Label
  color?: string
}

export type FieldType =
  | 'text' | 'long_text' | 'rich_text' | 'integer' | 'decimal' | 'money' | 'percent'
  | 'date' | 'datetime' | 'time' | 'boolean' | 'select' | 'multi_select' | 'email'
  | 'phone' | 'url' | 'address' | 'user' | 'department' | 'link' | 'multi_link'
  | 'subtable' | 'file' | 'image' | 'signature' | 'geo' | 'rating' | 'autonumber'
  | 'formula' | 'rollup' | 'tags' | 'barcode' | 'json'

export interface FieldMeta {
  name: string
  type: FieldType
  label?: Label
  help?: Label
  required?: boolean
  required_if?: string
  visible_if?: string
  unique?: boolean
  default?: unknown
  min?: string
  max?: string
  max_length?: number
  pattern?: string
  options?: FieldOption[]
  options_from?: string
  target?: string
  fields?: FieldMeta[]
  expression?: string
  result_type?: string
  source?: string
  op?: string
  of?: string
  scale?: number
  currency?: string
  readonly?: boolean
  secret?: boolean
  custom?: boolean
}

export type Permission = 'read' | 'create' | 'update' | 'delete' | 'import' | 'export' | 'print' | 'approve'

export interface EntityMeta {
  name: string
  label?: Label
  module?: string
  title_field?: string
  numbering?: { field: string; pattern: string; reset?: string } | null
  fields: FieldMeta[]
  layouts?: unknown
  views?: unknown
  actions?: { name: string; label?: Label }[] | null
  system?: boolean
  custom?: boolean
  permissions: Permission[]
  readonly_fields: string[]
}

/** A record in API form: ids are strings, decimals are strings. */
export interface RecordData {
  id: string
  version: number
  created_at?: string
  updated_at?: string
  created_by?: string | null
  owner?: string | null
  deleted_at?: string | null
  expand?: Record<string, RecordData | RecordData[]>
  [field: string]: unknown
}

export interface ListResult<T = RecordData> {
  items: T[]
  page: number
  per_page: number
  total: number | null
  total_exact: boolean
}

export interface HistoryEntry {
  id: string
  entity: string
  record_id: string
  action: string
  version: number
  actor?: string
  token_id?: string
  source: string
  at: string
  changes: Record<string, { old: unknown; new: unknown }>
}

export interface Me {
  user: RecordData
  roles: string[]
  admin: boolean
  csrf_token?: string
}

export interface FileInfo {
  id: string
  name: string
  size: number
  content_type: string
  sha256: string
}

/** A saved list or kanban view (a record of the system entity saved_views). */
export interface SavedView extends RecordData {
  name: string
  entity: string
  kind: 'list' | 'kanban' | null
  columns: string[] | null
  filter: string | null
  sort: string | null
  group_by: string | null
  shared: boolean | null
  is_default: boolean | null
}

/** One entity's hits of the global search (GET /search). */
export interface SearchGroup {
  entity: string
  label?: Label
  items: { id: string; title: string | null }[]
  has_more: boolean
}

/** An API token as listed (the secret only in the create answer). */
export interface ApiToken {
  id: string
  name: string
  prefix: string
  scopes: string[]
  expires_at: string | null
  revoked_at: string | null
  created_at: string
  last_used_at: string | null
  token?: string
}

export type Scope = 'own' | 'department' | 'department_tree' | 'regions' | 'all' | 'filter'

/** One line of a role's permissions (API.md "roles"). */
export interface Grant {
  entity: string
  actions: Permission[]
  scope: Scope
  regions?: string[]
  filter?: string
  hidden_fields?: string[]
  readonly_fields?: string[]
}

export type Problem = components['schemas']['Problem']
export type FieldErrorItem = NonNullable<Problem['errors']>[number]
