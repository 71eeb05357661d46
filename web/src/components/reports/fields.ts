// The fields a report may group by or measure: the source entity's own
// fields (with owner and the record dates) and, one link away, the fields
// of a linked record ("客户 · 区域" = account.region).
import type { EntityMeta, FieldMeta, FieldType } from '@/api/types'
import { allFields, entityLabel, fieldLabel, linkTarget } from '@/utils/fields'
import { t } from '@/i18n'

/** Field types a report can group by. */
const GROUPABLE: FieldType[] = ['text', 'select', 'boolean', 'date', 'datetime', 'user', 'department', 'link', 'integer', 'rating', 'email', 'phone', 'autonumber', 'barcode']
/** Field types sum, avg, min and max apply to. */
const NUMERIC: FieldType[] = ['integer', 'decimal', 'money', 'percent', 'rating', 'rollup']
const DATES: FieldType[] = ['date', 'datetime']

export interface PathField {
  /** The path: "amount" or "account.region". */
  path: string
  label: string
  field: FieldMeta
}

export interface PathGroup {
  key: string
  label: string
  items: PathField[]
}

const isNumeric = (f: FieldMeta) => NUMERIC.includes(f.type) || (f.type === 'formula' && ['integer', 'decimal', 'money', 'percent'].includes(f.result_type ?? ''))
export const isDate = (f: FieldMeta | undefined) => !!f && (DATES.includes(f.type) || (f.type === 'formula' && DATES.includes((f.result_type ?? '') as FieldType)))
const groupable = (f: FieldMeta) => GROUPABLE.includes(f.type) || (f.type === 'formula' && ['text', 'date', 'integer'].includes(f.result_type ?? ''))

/** fieldAt resolves a path of the source entity (one link at most). */
export function fieldAt(e: EntityMeta | null | undefined, path: string, byName: Map<string, EntityMeta>): FieldMeta | undefined {
  if (!e || !path) return undefined
  const [head, rest] = path.split('.', 2)
  const f = allFields(e).find((x) => x.name === head)
  if (!f || rest === undefined) return f
  const target = linkTarget(f)
  const te = target ? byName.get(target) : undefined
  return te ? allFields(te).find((x) => x.name === rest) : undefined
}

/** pathLabel names a path for people: "金额", "客户 · 区域". */
export function pathLabel(e: EntityMeta | null | undefined, path: string, byName: Map<string, EntityMeta>): string {
  if (!e) return path
  const [head, rest] = path.split('.', 2)
  const f = allFields(e).find((x) => x.name === head)
  if (!f) return path
  if (rest === undefined) return fieldLabel(f)
  return t('reports.builder.linked', { link: fieldLabel(f), field: fieldLabel(fieldAt(e, path, byName), rest) })
}

function groups(e: EntityMeta, byName: Map<string, EntityMeta>, keep: (f: FieldMeta) => boolean, linked: boolean): PathGroup[] {
  const own = allFields(e).filter((f) => !f.secret && keep(f))
  const out: PathGroup[] = [{ key: '', label: entityLabel(e), items: own.map((f) => ({ path: f.name, label: fieldLabel(f), field: f })) }]
  if (!linked) return out
  for (const f of allFields(e)) {
    const target = f.type === 'link' || f.type === 'user' || f.type === 'department' ? linkTarget(f) : null
    const te = target ? byName.get(target) : undefined
    if (!te || !te.permissions.includes('read')) continue
    const items = allFields(te)
      .filter((g) => !g.secret && keep(g) && g.name !== 'created_by' && g.name !== 'updated_at')
      .map((g) => ({ path: `${f.name}.${g.name}`, label: t('reports.builder.linked', { link: fieldLabel(f), field: fieldLabel(g) }), field: g }))
    if (items.length) out.push({ key: f.name, label: fieldLabel(f), items })
  }
  return out
}

/** dimensionFields are the paths a report may group by. */
export function dimensionFields(e: EntityMeta, byName: Map<string, EntityMeta>): PathGroup[] {
  return groups(e, byName, groupable, true)
}

/** measureFields are the fields an operation applies to. */
export function measureFields(e: EntityMeta, op: string): FieldMeta[] {
  const fs = allFields(e).filter((f) => !f.secret && f.type !== 'subtable' && f.type !== 'json')
  switch (op) {
    case 'sum':
    case 'avg':
    case 'sum_product':
      return fs.filter(isNumeric)
    case 'min':
    case 'max':
      return fs.filter((f) => isNumeric(f) || isDate(f))
    default:
      return fs
  }
}

/** dateFields are the fields a dashboard's date range may apply to. */
export function dateFields(e: EntityMeta): FieldMeta[] {
  return allFields(e).filter(isDate)
}
