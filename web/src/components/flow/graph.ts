// The designer's model of a flow graph: vue-flow nodes and edges carrying
// the engine's node types and configurations, and the conversions to and
// from the graph JSON the server stores (internal/engine/flow/model.go).
import type { Edge, Node } from '@vue-flow/core'
import type {
  ActionConfig,
  ApprovalConfig,
  Approver,
  CCConfig,
  FlowGraph,
  GraphEdge,
  GraphNode,
  NodeConfig,
  NodeType,
} from '@/api/flow'
import { t } from '@/i18n'

/** What a designer node carries: the engine's type, name and configuration. */
export interface NodeData {
  type: NodeType
  name: string
  config: NodeConfig | null
  /** Problems the server reported for this node (validate / publish). */
  problems: string[]
}

/** What a designer edge carries: a condition node's branch settings. */
export interface EdgeData {
  condition: string
  isDefault: boolean
  label: string
}

export type DNode = Node<NodeData>
export type DEdge = Edge<EdgeData>

/** Nodes that take one outgoing edge at most. */
export const SINGLE_EXIT: NodeType[] = ['start', 'approval', 'cc', 'action', 'join']

export function defaultConfig(type: NodeType): NodeConfig | null {
  switch (type) {
    case 'approval':
      return { mode: 'single', approvers: [{ kind: 'manager' }], on_empty: 'admin' } satisfies ApprovalConfig
    case 'cc':
      return { recipients: [] } satisfies CCConfig
    case 'action':
      return { set: {} } satisfies ActionConfig
    default:
      return null
  }
}

/** nextId returns "<type>_<n>" not used by any node yet. */
export function nextId(type: NodeType, nodes: { id: string }[]): string {
  const used = new Set(nodes.map((n) => n.id))
  for (let i = 1; ; i++) {
    const id = `${type}_${i}`
    if (!used.has(id)) return id
  }
}

/** defaultName is "审批 2" / "Approval 2": the type and the next free number among its names. */
export function defaultName(type: NodeType, nodes: DNode[]): string {
  const base = t(`flow.nodeType.${type}`)
  if (type === 'start' || type === 'end') return base
  const names = new Set(nodes.map((n) => n.data?.name))
  for (let i = 1; ; i++) {
    const name = `${base} ${i}`
    if (!names.has(name)) return name
  }
}

export function makeNode(type: NodeType, position: { x: number; y: number }, nodes: DNode[]): DNode {
  return {
    id: nextId(type, nodes),
    type: 'flow',
    position,
    data: { type, name: defaultName(type, nodes), config: defaultConfig(type), problems: [] },
  }
}

export function edgeId(from: string, to: string): string {
  return `e_${from}_${to}`
}

export function makeEdge(from: string, to: string, data: Partial<EdgeData> = {}): DEdge {
  return {
    id: edgeId(from, to),
    source: from,
    target: to,
    type: 'flow',
    markerEnd: 'arrowclosed',
    data: { condition: data.condition ?? '', isDefault: data.isDefault ?? false, label: data.label ?? '' },
  }
}

/** The graph of a new definition: start → an approval by the submitter's manager → end. */
export function starterGraph(): FlowGraph {
  return {
    nodes: [
      { id: 'start', type: 'start', name: t('flow.nodeType.start'), position: { x: 240, y: 40 } },
      {
        id: 'approval_1',
        type: 'approval',
        name: `${t('flow.nodeType.approval')} 1`,
        config: defaultConfig('approval') as ApprovalConfig,
        position: { x: 240, y: 170 },
      },
      { id: 'end', type: 'end', name: t('flow.nodeType.end'), position: { x: 240, y: 300 } },
    ],
    edges: [
      { id: edgeId('start', 'approval_1'), from: 'start', to: 'approval_1' },
      { id: edgeId('approval_1', 'end'), from: 'approval_1', to: 'end' },
    ],
  }
}

/** fromGraph turns stored graph JSON into designer nodes and edges (laid out in a column when positions are missing). */
export function fromGraph(g: FlowGraph | null | undefined): { nodes: DNode[]; edges: DEdge[] } {
  const nodes: DNode[] = (g?.nodes ?? []).map((n, i) => ({
    id: n.id,
    type: 'flow',
    position: validPosition(n.position) ?? { x: 240, y: 40 + i * 130 },
    data: {
      type: n.type,
      name: n.name ?? '',
      config: n.config ? cloneConfig(n.config) : hasConfig(n.type) ? defaultConfig(n.type) : null,
      problems: [],
    },
  }))
  const edges: DEdge[] = (g?.edges ?? []).map((e) => ({
    ...makeEdge(e.from, e.to, { condition: e.condition, isDefault: e.default, label: e.label }),
    id: e.id || edgeId(e.from, e.to),
  }))
  return { nodes, edges }
}

function validPosition(p: unknown): { x: number; y: number } | null {
  if (!p || typeof p !== 'object') return null
  const { x, y } = p as { x?: unknown; y?: unknown }
  return typeof x === 'number' && typeof y === 'number' && Number.isFinite(x) && Number.isFinite(y) ? { x, y } : null
}

export function hasConfig(type: NodeType): boolean {
  return type === 'approval' || type === 'cc' || type === 'action'
}

function cloneConfig(c: NodeConfig): NodeConfig {
  return JSON.parse(JSON.stringify(c)) as NodeConfig
}

/** cleanApprover keeps only the key the approver's kind uses (the server refuses unknown keys, and stray ones confuse). */
export function cleanApprover(a: Approver): Approver {
  switch (a.kind) {
    case 'user':
      return { kind: 'user', users: (a.users ?? []).filter(Boolean) }
    case 'role':
      return { kind: 'role', role: a.role ?? '' }
    case 'field':
      return { kind: 'field', field: a.field ?? '' }
    case 'manager_chain':
      return { kind: 'manager_chain', levels: a.levels ?? 1 }
    default:
      return { kind: a.kind }
  }
}

function cleanConfig(type: NodeType, c: NodeConfig | null): NodeConfig | undefined {
  if (!c || !hasConfig(type)) return undefined
  if (type === 'approval') {
    const a = c as ApprovalConfig
    const out: ApprovalConfig = { mode: a.mode || 'single', approvers: (a.approvers ?? []).map(cleanApprover) }
    if (a.on_empty) out.on_empty = a.on_empty
    if (a.time_limit_hours) {
      out.time_limit_hours = a.time_limit_hours
      if (a.remind_before_hours) out.remind_before_hours = a.remind_before_hours
      if (a.escalate) out.escalate = true
    }
    return out
  }
  if (type === 'cc') return { recipients: ((c as CCConfig).recipients ?? []).map(cleanApprover) }
  const set: Record<string, unknown> = {}
  for (const [k, v] of Object.entries((c as ActionConfig).set ?? {})) if (k) set[k] = v
  return { set }
}

/** toGraph writes the designer's state as the graph JSON the server stores (positions included). */
export function toGraph(nodes: DNode[], edges: DEdge[]): FlowGraph {
  const types = new Map(nodes.map((n) => [n.id, n.data?.type]))
  const gn: GraphNode[] = nodes.map((n) => {
    const d = n.data as NodeData
    const out: GraphNode = { id: n.id, type: d.type, position: { x: Math.round(n.position.x), y: Math.round(n.position.y) } }
    if (d.name.trim()) out.name = d.name.trim()
    const cfg = cleanConfig(d.type, d.config)
    if (cfg) out.config = cfg
    return out
  })
  const ge: GraphEdge[] = edges.map((e) => {
    const out: GraphEdge = { id: e.id, from: e.source, to: e.target }
    const d = e.data
    // Only a condition node's branches carry a condition or the default mark.
    if (d && types.get(e.source) === 'condition') {
      if (d.isDefault) out.default = true
      else if (d.condition.trim()) out.condition = d.condition.trim()
    }
    if (d?.label.trim()) out.label = d.label.trim()
    return out
  })
  return { nodes: gn, edges: ge }
}

/** nodeLabel is how the server names a node in its messages: its name, else its id. */
export function nodeLabel(n: DNode): string {
  return n.data?.name.trim() || n.id
}

/**
 * tidy lays the nodes out top to bottom: each node one row below the
 * furthest of its predecessors (edges that go back up a loop are ignored),
 * the nodes of a row side by side in the order of their predecessors, and
 * nodes not reachable from the start in a last row. It returns the new
 * positions by node id.
 */
export function tidy(nodes: DNode[], edges: DEdge[]): Map<string, { x: number; y: number }> {
  const out = new Map<string, string[]>()
  for (const e of edges) {
    if (!out.has(e.source)) out.set(e.source, [])
    out.get(e.source)!.push(e.target)
  }
  const start = nodes.find((n) => n.data?.type === 'start')?.id
  // Depth-first from the start: the order nodes finish in, reversed, is a
  // topological order of the graph without its back edges.
  const state = new Map<string, 1 | 2>()
  const back = new Set<string>()
  const order: string[] = []
  const visit = (id: string) => {
    state.set(id, 1)
    for (const to of out.get(id) ?? []) {
      const s = state.get(to)
      if (s === 1) back.add(`${id}>${to}`)
      else if (!s) visit(to)
    }
    state.set(id, 2)
    order.push(id)
  }
  if (start) visit(start)
  order.reverse()
  const level = new Map<string, number>()
  for (const id of order) {
    const l = level.get(id) ?? 0
    level.set(id, l)
    for (const to of out.get(id) ?? []) {
      if (!back.has(`${id}>${to}`)) level.set(to, Math.max(level.get(to) ?? 0, l + 1))
    }
  }
  // The end comes last, below everything.
  const endNode = nodes.find((n) => n.data?.type === 'end')
  const maxLevel = Math.max(0, ...level.values())
  if (endNode && level.has(endNode.id)) level.set(endNode.id, maxLevel)
  const rest = nodes.filter((n) => !level.has(n.id))
  for (const n of rest) level.set(n.id, maxLevel + 1)
  // Rows, ordered by where their predecessors stand.
  const rows = new Map<number, string[]>()
  for (const id of [...order, ...rest.map((n) => n.id)]) {
    const l = level.get(id)!
    if (!rows.has(l)) rows.set(l, [])
    rows.get(l)!.push(id)
  }
  const col = new Map<string, number>()
  const preds = new Map<string, string[]>()
  for (const e of edges) {
    if (back.has(`${e.source}>${e.target}`)) continue
    if (!preds.has(e.target)) preds.set(e.target, [])
    preds.get(e.target)!.push(e.source)
  }
  const pos = new Map<string, { x: number; y: number }>()
  const COL = 250
  const ROW = 130
  const CENTER = 300
  for (const l of [...rows.keys()].sort((a, b) => a - b)) {
    const row = rows.get(l)!
    const weight = (id: string) => {
      const ps = (preds.get(id) ?? []).filter((p) => col.has(p))
      return ps.length ? ps.reduce((s, p) => s + col.get(p)!, 0) / ps.length : 0
    }
    row.sort((a, b) => weight(a) - weight(b))
    row.forEach((id, i) => {
      const x = CENTER + (i - (row.length - 1) / 2) * COL
      col.set(id, x)
      const narrow = ['start', 'end'].includes(nodes.find((n) => n.id === id)?.data?.type ?? '')
      pos.set(id, { x: Math.round(x - (narrow ? 70 : 100)), y: 40 + l * ROW })
    })
  }
  return pos
}
