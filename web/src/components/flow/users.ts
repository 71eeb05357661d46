// Names of the users the approval screens mention (submitters, approvers,
// actors of steps), read from the organisation directory that every user
// may read, and kept for the session. An id whose name is unknown shows
// as "#id".
import { defineStore } from 'pinia'
import { reactive } from 'vue'
import { listAll } from '@/api/endpoints'
import { quote } from '@/utils/expr'

export const useUserNames = defineStore('flowUserNames', () => {
  const names = reactive<Record<string, string>>({})
  const asked = new Set<string>()

  /** need fetches the names of the ids not known yet (one request for all). */
  async function need(ids: (string | undefined | null)[]): Promise<void> {
    const missing = [...new Set(ids.filter((x): x is string => !!x && /^\d+$/.test(x) && !asked.has(x)))]
    if (!missing.length) return
    missing.forEach((x) => asked.add(x))
    try {
      const us = await listAll('users', { filter: `id in [${missing.map(quote).join(', ')}]`, fields: ['id', 'name', 'login'] }, 500)
      for (const u of us) names[u.id] = String(u.name || u.login || `#${u.id}`)
    } catch {
      // Retry later: another screen may ask again.
      missing.forEach((x) => asked.delete(x))
    }
  }

  function name(id: string | undefined | null): string {
    if (!id) return ''
    return names[id] ?? `#${id}`
  }

  function reset() {
    for (const k of Object.keys(names)) delete names[k]
    asked.clear()
  }

  return { names, need, name, reset }
})
