// The rule editor's model: a rules record as the editor holds it (every
// parameter of every trigger and action kept while the user switches
// types), converted back to exactly the keys the server accepts for the
// chosen types (it refuses keys a type does not use), and rules described
// in words for lists.
import type { ActionType, Recipients, Rule, RuleAction, RuleDraft, Trigger, TriggerType } from '@/api/automation'
import type { EntityMeta, FieldMeta } from '@/api/types'
import { allFields, fieldLabel } from '@/utils/fields'
import { optionLabel } from '@/utils/format'
import { t } from '@/i18n'
import { describeCron } from './cron'

export const TRIGGER_TYPES: TriggerType[] = ['created', 'updated', 'field_changed', 'status_entered', 'deleted', 'schedule', 'date', 'webhook']
export const ACTION_TYPES: ActionType[] = ['set_fields', 'create_record', 'update_linked', 'assign_owner', 'notify', 'create_task', 'call_webhook', 'start_flow']

/** One field of a mapping: a constant value or an expression. */
export interface MappingRow {
  key: number
  field: string
  mode: 'value' | 'expr'
  value: unknown
  expr: string
}

/** An action as the editor holds it. */
export interface ActionForm {
  key: number
  type: ActionType
  rows: MappingRow[]
  // create_record / update_linked
  entity: string
  link: string
  field: string
  linkMode: 'link' | 'reverse'
  // assign_owner
  strategy: 'fixed' | 'round_robin' | 'least_loaded' | 'by_rule'
  ownerField: string
  user: string | null
  users: string[]
  open: string
  byRule: { key: number; when: string; user: string | null }[]
  default: string | null
  // notify
  to: Required<Recipients>
  robot: string | null
  title: string
  body: string
  // call_webhook
  url: string
  secret: string
  fields: string[]
  // start_flow
  definition: string | null
  // create_task
  description: string
  due: string
  remind: string
  priority: string
  assignee: string
  assigneeUser: string | null
}

export interface TriggerForm {
  type: TriggerType
  fields: string[]
  field: string
  value: unknown
  cron: string
  timezone: string
  days: number
  direction: 'before' | 'on' | 'after'
  limit: number | null
  matchField: string
  matchKey: string
}

export interface RuleForm {
  name: string
  entity: string
  enabled: boolean
  description: string
  trigger: TriggerForm
  condition: string
  actions: ActionForm[]
}

let seq = 1
export const nextKey = () => seq++

/**
 * A new webhook rule's address and token, handed from the editor that
 * created the rule to the editor of the saved rule (the route changes from
 * /new to /:id, which makes a new editor), shown once there.
 */
export const hookHandoff: { rule: string; url: string; token: string }[] = []

export function newTrigger(type: TriggerType = 'created'): TriggerForm {
  return { type, fields: [], field: '', value: null, cron: '0 9 * * *', timezone: '', days: 0, direction: 'before', limit: null, matchField: '', matchKey: '' }
}

export function newAction(type: ActionType): ActionForm {
  return {
    key: nextKey(),
    type,
    rows: [],
    entity: '',
    link: '',
    field: '',
    linkMode: 'link',
    strategy: 'fixed',
    ownerField: '',
    user: null,
    users: [],
    open: '',
    byRule: [],
    default: null,
    to: { users: [], roles: [], fields: [], owner: false, owner_manager: false },
    robot: null,
    title: '',
    body: '',
    url: '',
    secret: '',
    fields: [],
    definition: null,
    description: '',
    due: '',
    remind: '',
    priority: '',
    assignee: 'owner',
    assigneeUser: null,
  }
}

export function newRule(): RuleForm {
  return { name: '', entity: '', enabled: false, description: '', trigger: newTrigger(), condition: '', actions: [] }
}

function rowsOf(values?: Record<string, unknown>, expressions?: Record<string, string>): MappingRow[] {
  const rows: MappingRow[] = []
  for (const [field, value] of Object.entries(values ?? {})) rows.push({ key: nextKey(), field, mode: 'value', value, expr: '' })
  for (const [field, expr] of Object.entries(expressions ?? {})) rows.push({ key: nextKey(), field, mode: 'expr', value: null, expr })
  return rows
}

/** formOf turns a stored rule into the editor's form. */
export function formOf(r: Rule): RuleForm {
  const tr = r.trigger ?? { type: 'created' }
  const trigger = newTrigger(tr.type)
  trigger.fields = tr.fields ?? []
  trigger.field = tr.field ?? ''
  trigger.value = tr.value ?? null
  if (tr.cron) trigger.cron = tr.cron
  trigger.timezone = tr.timezone ?? ''
  const off = tr.offset_days ?? 0
  trigger.days = Math.abs(off)
  trigger.direction = off < 0 ? 'before' : off > 0 ? 'after' : 'on'
  trigger.limit = tr.limit ?? null
  trigger.matchField = tr.match_field ?? ''
  trigger.matchKey = tr.match_key ?? ''
  const actions = (r.actions ?? []).map((a) => {
    const f = newAction(a.type)
    f.rows = rowsOf(a.values, a.expressions)
    f.entity = a.entity ?? ''
    f.link = a.link ?? ''
    f.field = a.type === 'update_linked' ? (a.field ?? '') : ''
    f.linkMode = a.type === 'update_linked' && a.entity ? 'reverse' : 'link'
    if (a.strategy) f.strategy = a.strategy
    f.ownerField = a.type === 'assign_owner' ? (a.field ?? '') : ''
    f.user = a.user ?? null
    f.users = a.users ?? []
    f.open = a.open ?? ''
    f.byRule = (a.rules ?? []).map((x) => ({ key: nextKey(), when: x.when, user: x.user || null }))
    f.default = a.default || null
    f.to = { users: a.to?.users ?? [], roles: a.to?.roles ?? [], fields: a.to?.fields ?? [], owner: !!a.to?.owner, owner_manager: !!a.to?.owner_manager }
    f.robot = a.robot || null
    f.title = a.title ?? ''
    f.body = a.body ?? ''
    f.url = a.url ?? ''
    f.secret = a.secret ?? ''
    f.fields = a.type === 'call_webhook' ? (a.fields ?? []) : []
    f.definition = a.definition || null
    f.description = a.description ?? ''
    f.due = a.due ?? ''
    f.remind = a.remind ?? ''
    f.priority = a.priority ?? ''
    const asg = a.assignee ?? 'owner'
    if (/^[1-9][0-9]*$/.test(asg)) {
      f.assignee = 'user'
      f.assigneeUser = asg
    } else f.assignee = asg || 'owner'
    return f
  })
  return {
    name: r.name ?? '',
    entity: r.entity ?? '',
    enabled: !!r.enabled,
    description: r.description ?? '',
    trigger,
    condition: r.condition ?? '',
    actions,
  }
}

const nonEmpty = (s: string) => s.trim() !== ''

function mapping(a: ActionForm): Pick<RuleAction, 'values' | 'expressions'> {
  const values: Record<string, unknown> = {}
  const expressions: Record<string, string> = {}
  for (const r of a.rows) {
    if (!r.field) continue
    if (r.mode === 'expr') expressions[r.field] = r.expr
    else values[r.field] = r.value === undefined ? null : r.value
  }
  const out: Pick<RuleAction, 'values' | 'expressions'> = {}
  if (Object.keys(values).length) out.values = values
  if (Object.keys(expressions).length) out.expressions = expressions
  return out
}

/** actionOf is an action with exactly the keys its type uses. */
export function actionOf(a: ActionForm): RuleAction {
  const out: RuleAction = { type: a.type }
  switch (a.type) {
    case 'set_fields':
      Object.assign(out, mapping(a))
      break
    case 'create_record':
      Object.assign(out, { entity: a.entity }, mapping(a))
      break
    case 'update_linked':
      if (a.linkMode === 'link') out.link = a.link
      else Object.assign(out, { entity: a.entity, field: a.field })
      Object.assign(out, mapping(a))
      break
    case 'assign_owner':
      out.strategy = a.strategy
      if (a.ownerField && a.ownerField !== 'owner') out.field = a.ownerField
      if (a.strategy === 'fixed') out.user = a.user ?? ''
      if (a.strategy === 'round_robin' || a.strategy === 'least_loaded') out.users = a.users ?? []
      if (a.strategy === 'least_loaded' && nonEmpty(a.open)) out.open = a.open.trim()
      if (a.strategy === 'by_rule') {
        out.rules = a.byRule.map((x) => ({ when: x.when, user: x.user ?? '' }))
        if (a.default) out.default = a.default
      }
      break
    case 'notify': {
      const to: Recipients = {}
      // Pickers give null when emptied.
      if (a.to.users?.length) to.users = a.to.users
      if (a.to.roles?.length) to.roles = a.to.roles
      if (a.to.fields?.length) to.fields = a.to.fields
      if (a.to.owner) to.owner = true
      if (a.to.owner_manager) to.owner_manager = true
      if (Object.keys(to).length) out.to = to
      if (a.robot) out.robot = a.robot
      out.title = a.title
      if (nonEmpty(a.body)) out.body = a.body
      break
    }
    case 'call_webhook':
      out.url = a.url.trim()
      out.secret = a.secret
      if (a.fields?.length) out.fields = a.fields
      break
    case 'start_flow':
      out.definition = a.definition ?? ''
      break
    case 'create_task':
      out.title = a.title
      if (nonEmpty(a.description)) out.description = a.description
      if (nonEmpty(a.due)) out.due = a.due.trim()
      if (nonEmpty(a.remind)) out.remind = a.remind.trim()
      if (a.priority) out.priority = a.priority
      out.assignee = a.assignee === 'user' ? (a.assigneeUser ?? '') : a.assignee
      break
  }
  return out
}

/** triggerOf is the trigger with exactly the keys its type uses. */
export function triggerOf(f: TriggerForm): Trigger {
  const out: Trigger = { type: f.type }
  switch (f.type) {
    case 'field_changed':
      out.fields = f.fields ?? []
      break
    case 'status_entered':
      out.field = f.field
      out.value = f.value
      break
    case 'schedule':
      out.cron = f.cron.trim()
      if (f.timezone) out.timezone = f.timezone
      if (f.limit) out.limit = f.limit
      break
    case 'date':
      out.field = f.field
      if (f.direction !== 'on' && f.days) out.offset_days = f.direction === 'before' ? -f.days : f.days
      if (f.limit) out.limit = f.limit
      break
    case 'webhook':
      if (f.matchField || f.matchKey) {
        out.match_field = f.matchField
        out.match_key = f.matchKey.trim()
      }
      break
  }
  return out
}

/** draftOf is the form as the fields of a rules record. */
export function draftOf(f: RuleForm): RuleDraft {
  return {
    name: f.name.trim(),
    entity: f.entity,
    enabled: f.enabled,
    trigger: triggerOf(f.trigger),
    condition: f.condition.trim(),
    actions: f.actions.map(actionOf),
    description: f.description.trim(),
  }
}

// ------------------------------------------------------------ metadata

/** fieldsOf lists an entity's fields (and owner, created_by…) that pass `keep`. */
export function fieldsOf(e: EntityMeta | null | undefined, keep: (f: FieldMeta) => boolean = () => true): FieldMeta[] {
  return e ? allFields(e).filter(keep) : []
}

export const isUserField = (f: FieldMeta) => f.type === 'user'
export const isLinkField = (f: FieldMeta) => f.type === 'link' || f.type === 'multi_link'
export const isDateField = (f: FieldMeta) => f.type === 'date' || f.type === 'datetime'
export const STATUS_TYPES = ['select', 'text', 'boolean', 'integer', 'user', 'link']
export const MATCH_TYPES = ['text', 'select', 'autonumber', 'barcode', 'integer', 'email', 'phone']
/** Fields a mapping may set: not computed, not sub-tables. */
export const isWritable = (f: FieldMeta) => !['formula', 'rollup', 'autonumber', 'subtable'].includes(f.type) && !f.readonly && !['created_by', 'created_at', 'updated_at'].includes(f.name)

function fieldName(e: EntityMeta | null | undefined, name: string): string {
  const f = e ? allFields(e).find((x) => x.name === name) : undefined
  return f ? fieldLabel(f) : name
}

function valueText(e: EntityMeta | null | undefined, name: string, v: unknown): string {
  const f = e ? allFields(e).find((x) => x.name === name) : undefined
  if (f && (f.type === 'select' || f.type === 'multi_select')) return optionLabel(f, v)
  if (typeof v === 'boolean') return v ? t('auto.common.yes') : t('auto.common.no')
  return v === null || v === undefined ? '—' : String(v)
}

/** triggerText says a trigger in words ("阶段 变为 已赢单"). */
export function triggerText(tr: Trigger | null | undefined, e: EntityMeta | null | undefined): string {
  if (!tr) return ''
  const T = (k: string, a?: Record<string, unknown>) => t(`auto.trigger.say.${k}`, a)
  switch (tr.type) {
    case 'field_changed':
      return T('field_changed', { fields: (tr.fields ?? []).map((n) => fieldName(e, n)).join(t('auto.common.listSep')) })
    case 'status_entered':
      return T('status_entered', { field: fieldName(e, tr.field ?? ''), value: valueText(e, tr.field ?? '', tr.value) })
    case 'schedule':
      return T('schedule', { when: describeCron(tr.cron ?? '') ?? tr.cron ?? '' })
    case 'date': {
      const d = tr.offset_days ?? 0
      const field = fieldName(e, tr.field ?? '')
      if (d === 0) return T('date_on', { field })
      return T(d < 0 ? 'date_before' : 'date_after', { field, n: Math.abs(d) })
    }
    default:
      return T(tr.type)
  }
}

/** valueAt reads a server error path ("actions[1].to.users", "trigger.cron") in a draft. */
export function valueAt(root: unknown, path: string): unknown {
  let cur: unknown = root
  for (const part of path.match(/[^.[\]]+/g) ?? []) {
    if (cur === null || typeof cur !== 'object') return undefined
    cur = (cur as Record<string, unknown>)[part]
  }
  return cur
}

/** errorsUnder picks the errors whose path starts with prefix, keyed by the rest. */
export function errorsUnder(errors: Record<string, string>, prefix: string): Record<string, string> {
  const out: Record<string, string> = {}
  for (const [k, v] of Object.entries(errors)) {
    if (k === prefix) out[''] = v
    else if (k.startsWith(prefix + '.') || k.startsWith(prefix + '[')) out[k.slice(prefix.length)] = v
  }
  return out
}
