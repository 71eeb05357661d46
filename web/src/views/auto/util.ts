// Helpers shared by the automation screens: calendar days in China time,
// titles of records named by id (tasks' related records, run logs), and
// the names of users.
import { reactive } from 'vue'
import { records } from '@/api/endpoints'
import { useMeta } from '@/stores/meta'
import { recordTitle, titleField } from '@/utils/fields'
import { quote } from '@/utils/expr'

const dayFmt = new Intl.DateTimeFormat('en-CA', { timeZone: 'Asia/Shanghai', year: 'numeric', month: '2-digit', day: '2-digit' })

/** dayOf is the calendar day (YYYY-MM-DD) of an instant in Asia/Shanghai. */
export function dayOf(at: string | Date): string {
  return dayFmt.format(typeof at === 'string' ? new Date(at) : at)
}

/** daysFromToday is how many calendar days (China time) `at` is after today (negative: before). */
export function daysFromToday(at: string): number {
  const a = Date.parse(dayOf(at) + 'T00:00:00Z')
  const b = Date.parse(dayOf(new Date()) + 'T00:00:00Z')
  return Math.round((a - b) / 86400000)
}

/**
 * titlesOf returns the titles of some records of an entity the caller may
 * read (unreadable or deleted ones are simply absent).
 */
export async function titlesOf(entity: string, ids: string[]): Promise<Map<string, string>> {
  const out = new Map<string, string>()
  const want = [...new Set(ids.filter((x) => /^[1-9][0-9]*$/.test(x)))]
  if (!want.length) return out
  const metaStore = useMeta()
  const e = await metaStore.entity(entity)
  if (!e || !e.permissions.includes('read')) return out
  const tf = titleField(e)
  for (let i = 0; i < want.length; i += 200) {
    const part = want.slice(i, i + 200)
    try {
      const res = await records.list(entity, {
        filter: `id in [${part.map(quote).join(', ')}]`,
        fields: tf ? ['id', tf] : ['id'],
        per_page: part.length,
        count: 'none',
      })
      for (const r of res.items) out.set(r.id, recordTitle(e, r))
    } catch {
      /* not readable: no titles */
    }
  }
  return out
}

/** Reactive, so names appear in templates once resolved. */
const userNames = reactive(new Map<string, string>())

/** namesOf resolves user ids to names (cached for the session of the page). */
export async function namesOf(ids: string[]): Promise<Map<string, string>> {
  const missing = [...new Set(ids)].filter((id) => id && !userNames.has(id))
  if (missing.length) {
    const got = await titlesOf('users', missing)
    for (const [id, name] of got) userNames.set(id, name)
  }
  const out = new Map<string, string>()
  for (const id of ids) if (userNames.has(id)) out.set(id, userNames.get(id)!)
  return out
}

/** userName is a resolved name, or "#id" until it is known. */
export function userName(id: string | null | undefined): string {
  if (!id) return ''
  return userNames.get(id) ?? `#${id}`
}
