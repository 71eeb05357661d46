// Attachments of approval steps. Steps and tasks list them as
// {id, name, size, content_type}; the record's audit entries written
// before names were recorded hold bare file ids, which show as
// "attachment n".
import type { FlowAttachment } from '@/api/flow'

/** attachmentsOf reads a list of attachments: objects, or bare file ids. */
export function attachmentsOf(v: unknown): FlowAttachment[] {
  if (!Array.isArray(v)) return []
  const out: FlowAttachment[] = []
  for (const x of v) {
    if (typeof x === 'string' && x) out.push({ id: x, name: '', size: 0, content_type: '' })
    else if (x && typeof x === 'object' && typeof (x as { id?: unknown }).id === 'string') {
      const a = x as Partial<FlowAttachment>
      out.push({ id: a.id!, name: typeof a.name === 'string' ? a.name : '', size: Number(a.size) || 0, content_type: a.content_type ?? '' })
    }
  }
  return out
}
