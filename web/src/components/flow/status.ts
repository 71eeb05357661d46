// Tag colours of flow and task statuses.
import type { DefinitionStatus, InstanceStatus, TaskStatus } from '@/api/flow'

type TagType = 'primary' | 'success' | 'warning' | 'danger' | 'info'

export function statusType(s: InstanceStatus | TaskStatus | DefinitionStatus | string): TagType {
  switch (s) {
    case 'approved':
    case 'published':
      return 'success'
    case 'rejected':
      return 'danger'
    case 'running':
    case 'pending':
      return 'primary'
    case 'returned':
    case 'withdrawn':
    case 'escalated':
    case 'disabled':
    case 'waiting':
      return 'warning'
    default:
      return 'info'
  }
}
