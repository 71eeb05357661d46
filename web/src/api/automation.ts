// Typed calls of the automation screens: the in-app inbox and its event
// stream, delivery preferences, e-mail settings, group robots, tasks and
// rules (internal/platform/notify, internal/engine/rules). Rules, robot
// channels and tasks are records; their own routes are here.
import { api, buildUrl } from './client'
import type { RecordData } from './types'

const enc = encodeURIComponent

// ---------------------------------------------------------------- inbox

/** One notification as its recipient sees it (entity/record_id only when the record is readable). */
export interface Notification {
  id: string
  kind: string
  title: string
  body: string
  entity: string | null
  record_id: string | null
  actor: string | null
  actor_name: string | null
  created_at: string
  read_at: string | null
  read: boolean
}

export interface InboxPage {
  items: Notification[]
  unread: number
  next_before: string | null
}

/** The URL of the inbox's server-sent events ("unread" and "notification"). */
export const STREAM_URL = buildUrl('/notifications/stream')

export const inbox = {
  list: (o: { unread?: boolean; before?: string | null; limit?: number } = {}) =>
    api
      .get<InboxPage>('/notifications', { query: { unread: o.unread ? 'true' : undefined, before: o.before ?? undefined, limit: o.limit } })
      .then((r) => r.data),
  read: (id: string) => api.post<{ unread: number }>(`/notifications/${enc(id)}/read`).then((r) => r.data),
  readAll: () => api.post<{ unread: number; marked: number }>('/notifications/read-all').then((r) => r.data),
}

/** Where a notification leads: its record, when the reader may open it. */
export function notificationLink(n: Notification): string | null {
  return n.entity && n.record_id ? `/e/${enc(n.entity)}/${enc(n.record_id)}` : null
}

// ---------------------------------------------------------- preferences

export interface PrefItem {
  kind: string
  label: string
  in_app: boolean
  email: boolean
  default_in_app: boolean
  default_email: boolean
}

export interface Prefs {
  items: PrefItem[]
  /** E-mail is enabled by an administrator and the user has an address. */
  email_available: boolean
}

export const prefs = {
  get: () => api.get<Prefs>('/notify/preferences').then((r) => r.data),
  put: (items: { kind: string; in_app?: boolean; email?: boolean }[]) => api.put<Prefs>('/notify/preferences', { items }).then((r) => r.data),
}

// ------------------------------------------------------ e-mail settings

export type SmtpTLS = 'none' | 'starttls' | 'tls'

export interface NotifySettings {
  email_enabled: boolean
  smtp_host: string
  smtp_port: number
  smtp_username: string
  smtp_password_set: boolean
  smtp_tls: SmtpTLS
  smtp_ca: string
  from_address: string
  from_name: string
  base_url: string
  robots_allow_private: boolean
  updated_at: string | null
}

/** A change of the settings: absent keys keep their value; smtp_password "" removes it. */
export type NotifySettingsInput = Partial<Omit<NotifySettings, 'smtp_password_set' | 'updated_at'>> & { smtp_password?: string }

export const notifySettings = {
  get: () => api.get<NotifySettings>('/notify/settings').then((r) => r.data),
  put: (body: NotifySettingsInput) => api.put<NotifySettings>('/notify/settings', body).then((r) => r.data),
  /** Sends a test e-mail now with the saved settings (to the caller unless `to`). */
  test: (to?: string) => api.post<{ ok: boolean; to: string }>('/notify/settings/test', to ? { to } : {}).then((r) => r.data),
}

// --------------------------------------------------------- group robots

export type RobotKind = 'dingtalk' | 'wecom' | 'feishu'

/** A notify_channels record (the signing secret is never returned). */
export interface RobotChannel extends RecordData {
  name: string
  kind: RobotKind
  webhook_url: string
  has_secret: boolean | null
  secret_updated_at: string | null
  enabled: boolean | null
  description: string | null
}

export const robots = {
  test: (id: string) => api.post<{ ok: boolean }>(`/notify/channels/${enc(id)}/test`).then((r) => r.data),
}

// ----------------------------------------------------------------- tasks

export interface Task extends RecordData {
  title: string
  description: string | null
  status: 'open' | 'done' | 'cancelled'
  priority: 'low' | 'normal' | 'high'
  due_at: string | null
  remind_at: string | null
  completed_at: string | null
  related_entity: string | null
  related_id: string | null
}

// ----------------------------------------------------------------- rules

export type TriggerType = 'created' | 'updated' | 'field_changed' | 'status_entered' | 'deleted' | 'schedule' | 'date' | 'webhook'

export interface Trigger {
  type: TriggerType
  fields?: string[]
  field?: string
  value?: unknown
  cron?: string
  timezone?: string
  offset_days?: number
  limit?: number
  match_field?: string
  match_key?: string
}

export type ActionType =
  | 'set_fields'
  | 'create_record'
  | 'update_linked'
  | 'assign_owner'
  | 'notify'
  | 'call_webhook'
  | 'start_flow'
  | 'create_task'

export interface Recipients {
  users?: string[]
  roles?: string[]
  fields?: string[]
  owner?: boolean
  owner_manager?: boolean
}

export interface RuleAction {
  type: ActionType
  values?: Record<string, unknown>
  expressions?: Record<string, string>
  entity?: string
  link?: string
  field?: string
  strategy?: 'fixed' | 'round_robin' | 'least_loaded' | 'by_rule'
  user?: string
  users?: string[]
  open?: string
  rules?: { when: string; user: string }[]
  default?: string
  to?: Recipients
  robot?: string
  title?: string
  body?: string
  url?: string
  secret?: string
  fields?: string[]
  definition?: string
  description?: string
  due?: string
  remind?: string
  priority?: string
  assignee?: string
}

/** A rules record. */
export interface Rule extends RecordData {
  name: string
  entity: string
  enabled: boolean | null
  trigger: Trigger | null
  condition: string | null
  actions: RuleAction[] | null
  description: string | null
  hook_token?: string | null
}

/** What one action did (run log) or would do (test). */
export interface ActionResult {
  index: number
  type: ActionType
  status: 'done' | 'queued' | 'skipped' | 'delivered' | 'failed' | string
  detail?: Record<string, unknown>
}

export interface RunError {
  code: string
  message: string
  action?: number
  type?: string
  fields?: { field: string; code: string; message: string }[]
}

export type Outcome = 'matched' | 'skipped' | 'failed' | 'loop_stopped'

export interface RuleRun {
  id: string
  rule: string
  entity: string
  record_id: string | null
  trigger: string
  outcome: Outcome
  actions: ActionResult[]
  error: RunError | null
  duration_ms: number
  depth: number
  job?: string
  at: string
}

export interface RunPage {
  items: RuleRun[]
  next_before?: string
}

export interface TestResult {
  rule: string | null
  record_id: string | null
  trigger: { type: string; matches: boolean | null; basis: 'always' | 'old_values' | 'current_value' | 'today' | 'needs_old' | string }
  condition: { source: string; matches: boolean; error?: RunError | null }
  would_run: boolean
  actions: ActionResult[]
  error: RunError | null
}

/** An unsaved rule, as the fields of a rules record. */
export interface RuleDraft {
  name?: string
  entity: string
  enabled?: boolean
  trigger: Trigger
  condition?: string
  actions: RuleAction[]
  description?: string
}

export interface TestInput {
  record_id?: string | null
  /** Values before a change (API form), for the change triggers. */
  old?: Record<string, unknown> | null
  /** An inbound webhook payload. */
  payload?: Record<string, unknown> | null
}

export const rules = {
  /** Tests a saved rule against a record: nothing is changed. */
  test: (id: string, body: TestInput) => api.post<TestResult>(`/rules/${enc(id)}/test`, body).then((r) => r.data),
  /** Tests an unsaved rule (checked as saving would) against a record. */
  testDraft: (rule: RuleDraft, body: TestInput) => api.post<TestResult>('/rules/test', { ...body, rule }).then((r) => r.data),
  runs: (id: string, o: { outcome?: Outcome | ''; before?: string | null; limit?: number } = {}) =>
    api
      .get<RunPage>(`/rules/${enc(id)}/runs`, { query: { outcome: o.outcome || undefined, before: o.before ?? undefined, limit: o.limit } })
      .then((r) => r.data),
  /** The address an inbound webhook rule is called at. */
  hookUrl: (id: string) => `${location.origin}${buildUrl(`/rules/${enc(id)}/hook`)}`,
}
