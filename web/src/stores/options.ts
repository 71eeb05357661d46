// Options of select fields whose values come from another entity
// (`options_from`, e.g. a region field drawn from the regions' codes). They
// are read once per session and shared by every widget that shows them.
import { defineStore } from 'pinia'
import { reactive } from 'vue'
import { listAll } from '@/api/endpoints'
import type { FieldMeta, FieldOption } from '@/api/types'

export const useOptionSources = defineStore('optionSources', () => {
  const lists = reactive<Record<string, FieldOption[]>>({})
  const pending = new Map<string, Promise<void>>()

  function load(entity: string): Promise<void> {
    if (entity in lists) return Promise.resolve()
    let p = pending.get(entity)
    if (!p) {
      p = listAll(entity, { fields: ['id', 'code', 'name'], sort: 'code' }, 1000)
        .then((items) => {
          lists[entity] = items
            .filter((r) => typeof r.code === 'string' && r.code)
            .map((r) => {
              const name = typeof r.name === 'string' && r.name ? r.name : String(r.code)
              return { value: String(r.code), label: { 'zh-CN': name, en: name } }
            })
        })
        .catch(() => {
          lists[entity] = []
        })
        .finally(() => pending.delete(entity))
      pending.set(entity, p)
    }
    return p
  }

  /** options of a field: its own, or (loading them on first use) those of its options_from entity. */
  function of(f: FieldMeta | undefined | null): FieldOption[] {
    if (!f) return []
    if (f.options_from) {
      if (!(f.options_from in lists)) void load(f.options_from)
      return lists[f.options_from] ?? []
    }
    return f.options ?? []
  }

  function reset() {
    for (const k of Object.keys(lists)) delete lists[k]
  }

  return { of, load, reset }
})
