// Saved views (records of the system entity saved_views): the user's own
// and the shared ones, per entity, cached for the session. The default view
// of an entity is the newest of the user's own views marked default, else
// the newest shared one marked default.
import { defineStore } from 'pinia'
import { reactive } from 'vue'
import { listAll, records } from '@/api/endpoints'
import type { SavedView } from '@/api/types'
import { quote } from '@/utils/expr'
import { useSession } from './session'

export const VIEWS_ENTITY = 'saved_views'

export type ViewKind = 'list' | 'kanban'

/** What a view stores about a screen. */
export interface ViewState {
  filter: string
  sort: string
  columns: string[]
  group_by: string
}

export function viewKind(v: SavedView): ViewKind {
  return v.kind === 'kanban' ? 'kanban' : 'list'
}

const newestFirst = (a: SavedView, b: SavedView) => String(b.updated_at ?? '').localeCompare(String(a.updated_at ?? '')) || Number(b.id) - Number(a.id)

export const useViews = defineStore('views', () => {
  const byEntity = reactive<Record<string, SavedView[]>>({})
  const pending = new Map<string, Promise<SavedView[]>>()

  function myId(): string {
    return String(useSession().user?.id ?? '')
  }

  function isMine(v: SavedView): boolean {
    return String(v.owner ?? '') === myId()
  }

  /** canEdit: one's own views, and shared ones for administrators. */
  function canEdit(v: SavedView): boolean {
    return isMine(v) || (useSession().isAdmin && !!v.shared)
  }

  /** load reads the views of an entity (own and shared), once per session unless forced. */
  function load(entity: string, force = false): Promise<SavedView[]> {
    if (!force && byEntity[entity]) return Promise.resolve(byEntity[entity])
    let p = pending.get(entity)
    if (p && !force) return p
    const me = myId()
    // Administrators may read everyone's views: keep to their own and the shared ones.
    const filter = `entity == ${quote(entity)} && (shared == true${me ? ` || owner == ${quote(me)}` : ''})`
    p = listAll(VIEWS_ENTITY, { filter, sort: 'name' }, 500)
      .then((items) => {
        byEntity[entity] = items as SavedView[]
        return byEntity[entity]
      })
      .catch(() => {
        // No views (or the entity is not there yet): the screen still works.
        byEntity[entity] = []
        return byEntity[entity]
      })
      .finally(() => pending.delete(entity))
    pending.set(entity, p)
    return p
  }

  function list(entity: string): SavedView[] {
    return byEntity[entity] ?? []
  }

  function find(entity: string, id: string): SavedView | null {
    return list(entity).find((v) => v.id === id) ?? null
  }

  /** defaultOf: the newest own default, else the newest shared default. */
  function defaultOf(entity: string): SavedView | null {
    const defs = list(entity).filter((v) => v.is_default).sort(newestFirst)
    return defs.find(isMine) ?? defs.find((v) => !!v.shared) ?? null
  }

  function put(v: SavedView) {
    const l = byEntity[v.entity] ?? (byEntity[v.entity] = [])
    const i = l.findIndex((x) => x.id === v.id)
    if (i >= 0) l.splice(i, 1, v)
    else l.push(v)
    l.sort((a, b) => a.name.localeCompare(b.name))
  }

  async function create(body: Partial<SavedView> & { name: string; entity: string }): Promise<SavedView> {
    const res = await records.create(VIEWS_ENTITY, body)
    const v = res.data as SavedView
    put(v)
    if (v.is_default) await clearOtherDefaults(v)
    return v
  }

  async function update(v: SavedView, patch: Partial<SavedView>): Promise<SavedView> {
    const res = await records.patch(VIEWS_ENTITY, v.id, patch, v.version)
    const nv = res.data as SavedView
    put(nv)
    if (patch.is_default) await clearOtherDefaults(nv)
    return nv
  }

  async function remove(v: SavedView): Promise<void> {
    await records.remove(VIEWS_ENTITY, v.id, v.version)
    const l = byEntity[v.entity]
    if (l) {
      const i = l.findIndex((x) => x.id === v.id)
      if (i >= 0) l.splice(i, 1)
    }
  }

  /**
   * clearOtherDefaults unmarks the user's other defaults of the same kind of
   * sharing (a personal default does not take away the shared one everyone
   * else falls back to). The newest default would win anyway; this keeps the
   * stars in the switcher honest.
   */
  async function clearOtherDefaults(v: SavedView) {
    const others = list(v.entity).filter((x) => x.id !== v.id && x.is_default && isMine(x) && !!x.shared === !!v.shared)
    for (const o of others) {
      try {
        put((await records.patch(VIEWS_ENTITY, o.id, { is_default: false }, o.version)).data as SavedView)
      } catch {
        /* the newest default wins anyway */
      }
    }
  }

  function reset() {
    for (const k of Object.keys(byEntity)) delete byEntity[k]
  }

  return { load, list, find, defaultOf, isMine, canEdit, create, update, remove, reset }
})

/** Where a saved view opens: its screen, with its filter and sort in the URL. */
export function viewLocation(entity: string, v: SavedView): { path: string; query: Record<string, string> } {
  const query: Record<string, string> = { view: v.id }
  if (v.filter) query.filter = v.filter
  if (v.sort) query.sort = v.sort
  if (viewKind(v) === 'kanban') {
    if (v.group_by) query.group = v.group_by
    return { path: `/e/${entity}/kanban`, query }
  }
  return { path: `/e/${entity}`, query }
}

/** sameColumns compares two column lists, order included. */
export function sameColumns(a: string[] | null | undefined, b: string[] | null | undefined): boolean {
  return JSON.stringify(a ?? []) === JSON.stringify(b ?? [])
}

const columnsKey = (entity: string) => `tenon.cols.${entity}`

/** storedColumns: the columns the user picked for an entity's list outside any view (this browser only), or null. */
export function storedColumns(entity: string): string[] | null {
  try {
    return JSON.parse(localStorage.getItem(columnsKey(entity)) || 'null')
  } catch {
    return null
  }
}

/** storeColumns keeps the picked columns; null forgets them. */
export function storeColumns(entity: string, columns: string[] | null) {
  if (columns) localStorage.setItem(columnsKey(entity), JSON.stringify(columns))
  else localStorage.removeItem(columnsKey(entity))
}
