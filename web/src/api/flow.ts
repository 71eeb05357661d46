// Typed calls of the approval flows (internal/engine/flow/http.go) and the
// shapes of a flow definition's graph (internal/engine/flow/model.go).
import { api, ApiError, buildUrl } from './client'
import { records, type ListParams } from './endpoints'
import type { FieldErrorItem, Label, ListResult, Problem, RecordData } from './types'
import { useSession } from '@/stores/session'
import { locale } from '@/i18n'

const enc = encodeURIComponent

// ------------------------------------------------------------------ graph

export type NodeType = 'start' | 'approval' | 'condition' | 'split' | 'join' | 'cc' | 'action' | 'end'
export const NODE_TYPES: NodeType[] = ['start', 'approval', 'condition', 'split', 'join', 'cc', 'action', 'end']

export type ApprovalMode = 'single' | 'any' | 'all' | 'sequential'
export type ApproverKind = 'user' | 'role' | 'field' | 'manager' | 'department_head' | 'manager_chain'
export const APPROVER_KINDS: ApproverKind[] = ['user', 'role', 'field', 'manager', 'department_head', 'manager_chain']
/** The server's bound on a manager chain (flow.MaxLevels). */
export const MAX_LEVELS = 10

/** Who gets a task or a copy. Only the key its kind uses is sent. */
export interface Approver {
  kind: ApproverKind
  users?: string[]
  role?: string
  field?: string
  levels?: number
}

export interface ApprovalConfig {
  mode: ApprovalMode
  approvers: Approver[]
  on_empty?: 'admin' | 'skip'
  time_limit_hours?: number
  remind_before_hours?: number
  escalate?: boolean
}

export interface CCConfig {
  recipients: Approver[]
}

export interface ActionConfig {
  set: Record<string, unknown>
}

export type NodeConfig = ApprovalConfig | CCConfig | ActionConfig

export interface GraphNode {
  id: string
  type: NodeType
  name?: string
  config?: NodeConfig
  position?: { x: number; y: number }
}

export interface GraphEdge {
  id?: string
  from: string
  to: string
  condition?: string
  default?: boolean
  label?: string
}

export interface FlowGraph {
  nodes: GraphNode[]
  edges: GraphEdge[]
}

export type Trigger = 'submit' | 'create' | 'update'
export type DefinitionStatus = 'draft' | 'published' | 'disabled'

/** A record of the system entity flow_definitions. */
export interface FlowDefinition extends RecordData {
  name: string
  entity: string
  trigger: Trigger
  condition: string | null
  priority: number | null
  description: string | null
  status: DefinitionStatus
  published_version: number | null
  graph: FlowGraph | null
}

export interface FlowVersion {
  version: number
  name: string
  entity: string
  trigger: Trigger
  condition: string
  graph: FlowGraph | null
  published_at: string
  published_by: string
}

// --------------------------------------------------------------- runtime

export type InstanceStatus = 'running' | 'approved' | 'rejected' | 'withdrawn' | 'returned'
export type TaskStatus =
  | 'queued' | 'pending' | 'waiting' | 'approved' | 'rejected' | 'returned' | 'delegated' | 'escalated' | 'cancelled' | 'cc'

export interface NodeRef {
  id: string
  name: string
}

/** A file attached to a step or a task (actions send the bare file ids). */
export interface FlowAttachment {
  id: string
  /** '' when the file is gone. */
  name: string
  size: number
  content_type: string
}

export interface FlowTask {
  id: string
  kind: 'approval' | 'cc'
  status: TaskStatus
  origin: 'base' | 'before' | 'after'
  node: NodeRef
  assignee: string
  added_by?: string
  from_task?: string
  created_at: string
  due_at?: string
  acted_at?: string
  comment?: string
  attachments: FlowAttachment[]
}

export interface FlowStep {
  id: string
  kind: string
  node?: NodeRef
  task?: string
  actor?: string
  comment?: string
  attachments: FlowAttachment[]
  data: Record<string, unknown>
  at: string
}

export interface FlowInstance {
  id: string
  definition: string
  flow: string
  version: number
  entity: string
  record_id: string
  title: string
  status: InstanceStatus
  submitter?: string
  started_at: string
  ended_at?: string
  current: NodeRef[]
  reject_targets: NodeRef[]
  tasks: FlowTask[]
  steps: FlowStep[]
}

/** A record's approvals, and whether the caller may submit the record now. */
export interface RecordApprovals {
  items: FlowInstance[]
  /** The caller may update the record and a published submit flow applies to it (or its flow was returned to the caller). */
  can_submit: boolean
  /** The flow a submission would start or resume. */
  submit_flow: { id: string; name: string } | null
}

export interface InboxItem extends FlowTask {
  instance: { id: string; status: InstanceStatus; flow: string; version: number; submitter?: string }
  entity: string
  entity_label?: Label
  record_id: string
  title: string
}

export type Box = 'pending' | 'done' | 'cc'
export type TaskAction = 'approve' | 'reject' | 'return' | 'delegate' | 'comment' | 'add_approver'

/** The body of a task action; which keys apply depends on the action. */
export interface ActionInput {
  comment?: string
  attachments?: string[]
  /** reject: "start" or an earlier node id; delegate: a user id. */
  to?: string
  /** add_approver: the user and where they go. */
  user?: string
  position?: 'before' | 'after'
}

export interface InboxPage {
  items: InboxItem[]
  page: number
  per_page: number
  total: number
}

// ------------------------------------------------------------------ calls

/**
 * FlowProblem is an ApiError that keeps every error of a 422: a flow
 * definition's check reports many problems, several under one field, and
 * ApiError.fieldErrors keeps only the first per field. Each problem's field
 * says where it is (see problemTarget).
 */
export class FlowProblem extends ApiError {
  readonly errors: FieldErrorItem[]
  constructor(status: number, problem: Partial<Problem> | null, headers: Headers | null) {
    super(status, problem, headers)
    this.errors = problem?.errors ?? []
  }
}

/**
 * callKeepingErrors makes an unsafe call the way client.request does (JSON,
 * CSRF token, Accept-Language) but throws a FlowProblem with the full list
 * of errors.
 */
async function callKeepingErrors<T>(path: string): Promise<T> {
  const headers: Record<string, string> = {
    Accept: 'application/json, application/problem+json',
    'Accept-Language': locale.value,
  }
  const csrf = useSession().me?.csrf_token
  if (csrf) headers['X-CSRF-Token'] = csrf
  let res: Response
  try {
    res = await fetch(buildUrl(path), { method: 'POST', headers, credentials: 'same-origin' })
  } catch {
    throw new FlowProblem(0, null, null)
  }
  const text = await res.text()
  let body: unknown = null
  try {
    body = text ? JSON.parse(text) : null
  } catch {
    body = null
  }
  if (!res.ok) throw new FlowProblem(res.status, body as Partial<Problem> | null, res.headers)
  return body as T
}

export const flows = {
  // definitions (records of flow_definitions)
  list: (p: ListParams = {}) => records.list('flow_definitions', p) as Promise<ListResult<FlowDefinition>>,
  get: (id: string) => api.get<FlowDefinition>(`/records/flow_definitions/${enc(id)}`),
  create: (body: Partial<FlowDefinition>) => api.post<FlowDefinition>('/records/flow_definitions', body).then((r) => r.data),
  save: (id: string, body: Partial<FlowDefinition>, version?: number) =>
    api.patch<FlowDefinition>(`/records/flow_definitions/${enc(id)}`, body, { ifMatch: version }).then((r) => r.data),
  validate: (id: string) => callKeepingErrors<{ valid: boolean }>(`/flow-definitions/${enc(id)}/validate`),
  publish: (id: string) => callKeepingErrors<FlowDefinition>(`/flow-definitions/${enc(id)}/publish`),
  versions: (id: string) =>
    api.get<{ items: FlowVersion[] }>(`/flow-definitions/${enc(id)}/versions`).then((r) => r.data.items),

  // running flows
  inbox: (box: Box, page = 1, perPage = 50) =>
    api.get<InboxPage>('/approvals', { query: { box, page, per_page: perPage } }).then((r) => r.data),
  act: (task: string, action: TaskAction, body: ActionInput) =>
    api
      .post<{ task: FlowTask; instance: { id: string; status: InstanceStatus } }>(`/approvals/${enc(task)}/${action}`, body)
      .then((r) => r.data),
  submit: (entity: string, id: string, definition?: string) =>
    api
      .post<FlowInstance>(`/records/${enc(entity)}/${enc(id)}/submit`, definition ? { definition } : {})
      .then((r) => r.data),
  ofRecord: (entity: string, id: string) =>
    api.get<RecordApprovals>(`/records/${enc(entity)}/${enc(id)}/approvals`).then((r) => r.data),
  instance: (id: string) => api.get<FlowInstance>(`/flow-instances/${enc(id)}`).then((r) => r.data),
  withdraw: (id: string, comment?: string) =>
    api.post<FlowInstance>(`/flow-instances/${enc(id)}/withdraw`, comment ? { comment } : {}).then((r) => r.data),
}

/**
 * problemTarget reads where a definition's problem is from its field:
 * "graph.nodes.<id>" a node, "graph.edges.<id>" an edge, by position
 * ("graph.nodes[<i>]", "graph.edges[<i>]") when it has no id; anything
 * else ("graph", "condition", "entity"…) is not on the canvas.
 */
export function problemTarget(field: string): { node?: string; edge?: string; nodeIndex?: number; edgeIndex?: number } {
  const pos = /^graph\.(nodes|edges)\[(\d+)\]$/.exec(field)
  if (pos) return pos[1] === 'nodes' ? { nodeIndex: Number(pos[2]) } : { edgeIndex: Number(pos[2]) }
  if (field.startsWith('graph.nodes.')) return { node: field.slice('graph.nodes.'.length) }
  if (field.startsWith('graph.edges.')) return { edge: field.slice('graph.edges.'.length) }
  return {}
}

/** attachmentUrl is where an approval step's attachment is downloaded. */
export function attachmentUrl(file: string): string {
  return buildUrl(`/flow-attachments/${enc(file)}`)
}

/** isOpen: the instance still holds the record (running, or returned for changes). */
export function isOpen(i: Pick<FlowInstance, 'status'>): boolean {
  return i.status === 'running' || i.status === 'returned'
}
