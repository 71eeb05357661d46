// A record's audit entries, fifty at a time, with the names of the users
// they mention (the actors and the values of user fields): shared by the
// Timeline and the History tabs, which show the same entries two ways.
import { computed, onMounted, ref } from 'vue'
import { listAll, records } from '@/api/endpoints'
import type { EntityMeta, FieldMeta, HistoryEntry, RecordData } from '@/api/types'
import { useMeta } from '@/stores/meta'
import { findField } from '@/utils/fields'
import { quote } from '@/utils/expr'
import { showError } from '@/utils/errors'

export function useHistory(props: { entity: EntityMeta; id: string }) {
  const metaStore = useMeta()
  const entries = ref<HistoryEntry[]>([])
  const loading = ref(true)
  const more = ref(false)
  /** User names by id; an id not in here is shown as "#id". */
  const names = ref<Record<string, string>>({})

  /** Users named in the entries whose names are not known yet. */
  function unknownUsers(list: HistoryEntry[]): string[] {
    const ids = new Set<string>()
    for (const e of list) {
      if (e.actor) ids.add(e.actor)
      for (const [k, c] of Object.entries(e.changes ?? {})) {
        if (findField(props.entity, k)?.type !== 'user') continue
        for (const v of [c.old, c.new]) if (typeof v === 'string' && v) ids.add(v)
      }
    }
    return [...ids].filter((x) => !(x in names.value))
  }

  async function resolveUsers(list: HistoryEntry[]) {
    const ids = unknownUsers(list)
    // Someone who may not read users sees the ids.
    if (!ids.length || !metaStore.byName.get('users')) return
    try {
      const us = await listAll('users', { filter: `id in [${ids.map(quote).join(', ')}]`, fields: ['id', 'name', 'login'] }, 500)
      const next = { ...names.value }
      for (const u of us) next[u.id] = String(u.name || u.login || `#${u.id}`)
      names.value = next
    } catch {
      /* the ids stay */
    }
  }

  /** load reads the newest entries, or with `before` the next older ones. */
  async function load(before?: string) {
    loading.value = true
    try {
      const list = await records.history(props.entity.name, props.id, before)
      entries.value = before ? [...entries.value, ...list] : list
      more.value = list.length >= 50
      await resolveUsers(list)
    } catch (e) {
      showError(e)
    } finally {
      loading.value = false
    }
  }
  onMounted(() => load())

  const lastId = computed(() => entries.value[entries.value.length - 1]?.id)

  /** loadMore reads the entries older than those shown. */
  const loadMore = () => load(lastId.value)

  /** A stand-in record whose `expand` names the user a value points at, for FieldValue. */
  function withUser(f: Pick<FieldMeta, 'name' | 'type'>, v: unknown): RecordData | null {
    if (f.type !== 'user' || typeof v !== 'string' || !names.value[v]) return null
    return { id: '', version: 0, expand: { [f.name]: { id: v, version: 0, name: names.value[v] } } }
  }

  return { entries, loading, more, names, loadMore, withUser }
}
