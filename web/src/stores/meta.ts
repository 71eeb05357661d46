// Entity metadata as the signed-in user may see it, fetched once per session
// and refreshed on demand (after a custom entity or field is added).
import { defineStore } from 'pinia'
import { computed, ref, shallowRef } from 'vue'
import { meta as metaApi } from '@/api/endpoints'
import type { EntityMeta } from '@/api/types'

export const useMeta = defineStore('meta', () => {
  // Metadata is replaced whole, never edited in place: a shallow ref spares
  // every read of a field definition the proxy and dependency tracking.
  const entities = shallowRef<EntityMeta[]>([])
  const loaded = ref(false)
  let pending: Promise<void> | null = null

  const byName = computed(() => {
    const m = new Map<string, EntityMeta>()
    for (const e of entities.value) m.set(e.name, e)
    return m
  })

  function load(force = false): Promise<void> {
    if (loaded.value && !force) return Promise.resolve()
    if (pending) return pending
    pending = metaApi
      .entities()
      .then((items) => {
        entities.value = items
        loaded.value = true
      })
      .finally(() => {
        pending = null
      })
    return pending
  }

  /** entity returns one entity's metadata, reloading the list when it is unknown. */
  async function entity(name: string): Promise<EntityMeta | null> {
    await load()
    let e = byName.value.get(name)
    if (!e) {
      await load(true)
      e = byName.value.get(name)
    }
    return e ?? null
  }

  function reset() {
    entities.value = []
    loaded.value = false
  }

  return { entities, loaded, byName, load, entity, reset }
})
