// Helpers over entity metadata: titles, default columns, layouts and views.
import type { EntityMeta, FieldMeta, FieldType, Label, RecordData } from '@/api/types'
import { label, t } from '@/i18n'

export const COMPUTED_TYPES: FieldType[] = ['formula', 'rollup', 'autonumber']
export const LINK_TYPES: FieldType[] = ['link', 'user', 'department']
export const NUMERIC_TYPES: FieldType[] = ['integer', 'decimal', 'money', 'percent', 'rating', 'rollup']
/** Field types a list column cannot show in a useful way. */
const NOT_COLUMN_TYPES: FieldType[] = ['subtable', 'json', 'rich_text', 'long_text', 'signature', 'geo']

export const SYSTEM_FIELDS: FieldMeta[] = [
  { name: 'owner', type: 'user', target: 'users', label: { 'zh-CN': '负责人', en: 'Owner' } },
  { name: 'created_by', type: 'user', target: 'users', label: { 'zh-CN': '创建人', en: 'Created by' }, readonly: true },
  { name: 'created_at', type: 'datetime', label: { 'zh-CN': '创建时间', en: 'Created' }, readonly: true },
  { name: 'updated_at', type: 'datetime', label: { 'zh-CN': '修改时间', en: 'Updated' }, readonly: true },
]

export function fieldLabel(f: FieldMeta | undefined, name = ''): string {
  if (!f) return name
  return label(f.label, humanize(f.name))
}

export function entityLabel(e: EntityMeta | undefined | null, name = ''): string {
  if (!e) return name
  return label(e.label, humanize(e.name))
}

/** humanize turns a snake_case name into "Snake case" when no label exists. */
export function humanize(name: string): string {
  const s = name.replace(/_/g, ' ').trim()
  return s ? s[0].toUpperCase() + s.slice(1) : s
}

/** linkTarget is the entity a link-like field points to. */
export function linkTarget(f: FieldMeta): string | null {
  if (f.type === 'user') return 'users'
  if (f.type === 'department') return 'departments'
  if (f.type === 'link' || f.type === 'multi_link') return f.target || null
  return null
}

export function isLinkLike(f: FieldMeta): boolean {
  return linkTarget(f) !== null
}

export function isComputed(f: FieldMeta): boolean {
  return COMPUTED_TYPES.includes(f.type) || !!f.readonly
}

/** allFields is the entity's fields plus the system ones (owner, dates). */
export function allFields(e: EntityMeta): FieldMeta[] {
  const own = new Set(e.fields.map((f) => f.name))
  return [...e.fields, ...SYSTEM_FIELDS.filter((f) => !own.has(f.name))]
}

export function findField(e: EntityMeta, name: string): FieldMeta | undefined {
  return allFields(e).find((f) => f.name === name)
}

/** titleField is the field that names a record (title_field or the first text field). */
export function titleField(e: EntityMeta): string | null {
  if (e.title_field && e.fields.some((f) => f.name === e.title_field)) return e.title_field
  const f = e.fields.find((x) => x.type === 'text' || x.type === 'autonumber')
  return f ? f.name : null
}

export function recordTitle(e: EntityMeta | null | undefined, r: RecordData | null | undefined): string {
  if (!r) return ''
  const tf = e ? titleField(e) : null
  const v = tf ? r[tf] : null
  if (v !== null && v !== undefined && v !== '') return String(v)
  if (typeof r.name === 'string' && r.name) return r.name
  return `#${r.id}`
}

export function columnable(f: FieldMeta): boolean {
  return !NOT_COLUMN_TYPES.includes(f.type)
}

// ------------------------------------------------------------------ views

export interface ListView {
  name: string
  label?: Label
  kind: string
  columns: string[]
  sort?: string
  filter?: string
  default?: boolean
}

function asArray(v: unknown): Record<string, unknown>[] {
  if (Array.isArray(v)) return v.filter((x) => x && typeof x === 'object') as Record<string, unknown>[]
  if (v && typeof v === 'object') {
    // {"all": {...}, "mine": {...}} → named views
    return Object.entries(v as Record<string, unknown>)
      .filter(([, x]) => x && typeof x === 'object' && !Array.isArray(x))
      .map(([name, x]) => ({ name, ...(x as Record<string, unknown>) }))
  }
  return []
}

function strings(v: unknown): string[] {
  if (!Array.isArray(v)) return []
  return v
    .map((x) => (typeof x === 'string' ? x : x && typeof x === 'object' ? (x as { field?: string; name?: string }).field ?? (x as { name?: string }).name : undefined))
    .filter((x): x is string => typeof x === 'string' && x !== '')
}

/** listViews reads the entity's `views` (an array or a map of views). */
export function listViews(e: EntityMeta): ListView[] {
  return asArray(e.views)
    .filter((v) => !v.kind || v.kind === 'list' || v.type === 'list')
    .map((v, i) => ({
      name: String(v.name ?? `view${i + 1}`),
      label: v.label as Label | undefined,
      kind: 'list',
      columns: strings(v.columns ?? v.fields),
      sort: typeof v.sort === 'string' ? v.sort : undefined,
      filter: typeof v.filter === 'string' ? v.filter : undefined,
      default: v.default === true,
    }))
}

export function defaultView(e: EntityMeta): ListView | null {
  const vs = listViews(e)
  return vs.find((v) => v.default) ?? vs.find((v) => v.name === 'default') ?? vs[0] ?? null
}

/** defaultColumns: the default view's columns, else the title and a few fields. */
export function defaultColumns(e: EntityMeta): string[] {
  const known = new Set(allFields(e).map((f) => f.name))
  const v = defaultView(e)
  if (v && v.columns.length) {
    const cols = v.columns.filter((c) => known.has(c))
    if (cols.length) return cols
  }
  const tf = titleField(e)
  const cols = tf ? [tf] : []
  for (const f of e.fields) {
    if (cols.length >= 6) break
    if (f.name !== tf && columnable(f)) cols.push(f.name)
  }
  return cols
}

// ---------------------------------------------------------------- layouts

export interface LayoutSection {
  key: string
  label: string
  columns: number
  fields: FieldMeta[]
}

export interface LayoutTab {
  key: string
  label: string
  sections: LayoutSection[]
}

interface RawSection {
  label?: Label | string
  title?: Label | string
  columns?: number
  fields?: unknown
}

function labelText(l: Label | string | undefined, fallback: string): string {
  if (!l) return fallback
  return typeof l === 'string' ? l : label(l, fallback)
}

/**
 * layoutTabs arranges fields by the entity's `layouts` for one purpose
 * ("form" or "detail"). Accepted shapes:
 *   {"form": {"tabs": [{"label", "sections": [...]}]}}
 *   {"form": {"sections": [{"label", "columns", "fields": [...]}]}}
 *   {"tabs": ...} / {"sections": ...} / [sections...] for every purpose.
 * Fields the layout does not name are added in an "Other" section, so a
 * field added later is never lost. Without a layout: one section, all fields.
 */
export function layoutTabs(e: EntityMeta, purpose: 'form' | 'detail', fields: FieldMeta[]): LayoutTab[] {
  const byName = new Map(fields.map((f) => [f.name, f]))
  const used = new Set<string>()
  let raw: unknown = e.layouts
  if (raw && typeof raw === 'object' && !Array.isArray(raw)) {
    const o = raw as Record<string, unknown>
    raw = o[purpose] ?? (purpose === 'detail' ? o.form : o.detail) ?? (o.tabs || o.sections ? o : o.default)
  }
  let rawTabs: { label?: Label | string; sections?: unknown }[] = []
  if (Array.isArray(raw)) {
    rawTabs = [{ sections: raw }]
  } else if (raw && typeof raw === 'object') {
    const o = raw as { tabs?: unknown; sections?: unknown }
    if (Array.isArray(o.tabs)) rawTabs = o.tabs as typeof rawTabs
    else if (Array.isArray(o.sections)) rawTabs = [{ sections: o.sections }]
  }
  const tabs: LayoutTab[] = []
  rawTabs.forEach((rt, ti) => {
    const sections: LayoutSection[] = []
    const rs = Array.isArray(rt.sections) ? (rt.sections as RawSection[]) : []
    rs.forEach((s, si) => {
      const fs: FieldMeta[] = []
      for (const n of strings(s.fields)) {
        const f = byName.get(n)
        if (f && !used.has(n)) {
          used.add(n)
          fs.push(f)
        }
      }
      if (fs.length) {
        sections.push({ key: `${ti}-${si}`, label: labelText(s.label ?? s.title, ''), columns: s.columns === 1 ? 1 : 2, fields: fs })
      }
    })
    if (sections.length) tabs.push({ key: String(ti), label: labelText(rt.label, t('detail.details')), sections })
  })
  const rest = fields.filter((f) => !used.has(f.name))
  if (!tabs.length) {
    return [{ key: 'all', label: t('detail.details'), sections: rest.length ? [{ key: 'all', label: '', columns: 2, fields: rest }] : [] }]
  }
  if (rest.length) {
    tabs[tabs.length - 1].sections.push({ key: 'rest', label: t('detail.other'), columns: 2, fields: rest })
  }
  return tabs
}

/** wide fields take a whole row in a two-column grid. */
export function isWide(f: FieldMeta): boolean {
  return ['long_text', 'rich_text', 'subtable', 'json', 'address', 'signature', 'geo', 'multi_link', 'image', 'file'].includes(f.type)
}
