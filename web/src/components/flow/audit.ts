// How the record's timeline names the audit entries an approval flow
// writes ("flow.approve", "flow.assign"…; see internal/engine/flow's
// audit): a verb per kind; FlowAuditNote shows the details.
import { t } from '@/i18n'
import './texts'

const KINDS = ['submit', 'resubmit', 'assign', 'approve', 'reject', 'return', 'delegate', 'add_approver', 'comment', 'cc', 'action', 'skip', 'withdraw', 'end', 'escalate', 'remind']

/** isFlowEntry: the audit entry was written by an approval flow. */
export function isFlowEntry(action: string): boolean {
  return action.startsWith('flow.')
}

/** flowVerb is the timeline's verb of a flow entry. */
export function flowVerb(action: string): string {
  const kind = action.slice('flow.'.length)
  return t(KINDS.includes(kind) ? `flow.audit.${kind}` : 'flow.audit.other')
}
