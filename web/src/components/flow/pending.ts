// The number of approval tasks waiting for the signed-in user, for the
// navigation's "My approvals" entry. Read when first asked for, again every
// minute while the tab is visible, when the tab comes back into view, when
// the signed-in user changes, and whenever a screen says it acted on a task.
import { defineStore } from 'pinia'
import { ref, watch } from 'vue'
import { flows } from '@/api/flow'
import { useSession } from '@/stores/session'
import { whenIdle } from '@/utils/idle'

const EVERY_MS = 60_000

export const usePendingApprovals = defineStore('flowPending', () => {
  const count = ref(0)
  const session = useSession()
  let seq = 0

  async function refresh(): Promise<void> {
    const my = ++seq
    if (!session.user) {
      count.value = 0
      return
    }
    try {
      const page = await flows.inbox('pending', 1, 1)
      if (my === seq) count.value = page.total
    } catch {
      /* keep the last count; the next refresh tries again */
    }
  }

  // The first read waits until the first screen is up (see whenIdle).
  whenIdle(() => void refresh())
  watch(() => session.user?.id, () => void refresh())
  setInterval(() => {
    if (document.visibilityState === 'visible') void refresh()
  }, EVERY_MS)
  document.addEventListener('visibilitychange', () => {
    if (document.visibilityState === 'visible') void refresh()
  })

  return { count, refresh }
})
