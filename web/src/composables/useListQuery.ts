// What the list and the kanban of an entity keep in the URL (q, filter,
// sort, view) and the controls both have for it: the search box and the
// filter panel (its builder loads when first opened).
import { computed, defineAsyncComponent, ref, watch } from 'vue'
import { useRoute, useRouter } from 'vue-router'

export const FilterBuilder = defineAsyncComponent(() => import('@/components/FilterBuilder.vue'))

export function useListQuery() {
  const route = useRoute()
  const router = useRouter()

  const q = computed(() => String(route.query.q ?? ''))
  const filter = computed(() => String(route.query.filter ?? ''))
  const sort = computed(() => String(route.query.sort ?? ''))
  /** '' (nothing chosen), 'all', a saved view's id, or 'm:<name>' for a view the entity ships with. */
  const viewKey = computed(() => String(route.query.view ?? ''))

  /** setQuery changes the URL's query: a key set to undefined or '' goes; so does `page`, unless kept. */
  function setQuery(patch: Record<string, string | undefined>, resetPage = true) {
    const next: Record<string, string> = {}
    for (const [k, v] of Object.entries({ ...route.query, ...(resetPage ? { page: undefined } : {}), ...patch })) {
      if (v !== undefined && v !== null && v !== '') next[k] = String(v)
    }
    router.push({ query: next })
  }

  /** A link to `path` (the entity's other screen, list ↔ kanban) that keeps the search, filter and sort. */
  function carryTo(path: string) {
    const query: Record<string, string> = {}
    if (filter.value) query.filter = filter.value
    if (q.value) query.q = q.value
    if (sort.value) query.sort = sort.value
    return { path, query }
  }

  // ---- search box
  const searchText = ref('')
  function onSearch() {
    setQuery({ q: searchText.value.trim() || undefined })
  }

  // ---- filter panel
  const showFilter = ref(false)
  const filterMounted = ref(false)
  watch(showFilter, (v) => v && (filterMounted.value = true), { immediate: true })

  /** onApplyFilter puts the builder's expression in the URL; clearing it also closes the panel. */
  function onApplyFilter(expr: string) {
    setQuery({ filter: expr || undefined })
    if (!expr) showFilter.value = false
  }

  return { q, filter, sort, viewKey, setQuery, carryTo, searchText, onSearch, showFilter, filterMounted, onApplyFilter }
}
