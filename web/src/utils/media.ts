// Reactive media queries: the layout switches to phone mode at ≤ 768px.
import { onScopeDispose, ref, getCurrentScope, type Ref } from 'vue'

export const PHONE_QUERY = '(max-width: 768px)'

export function useMedia(query: string): Ref<boolean> {
  const mq = window.matchMedia(query)
  const matches = ref(mq.matches)
  const onChange = (e: MediaQueryListEvent) => {
    matches.value = e.matches
  }
  mq.addEventListener('change', onChange)
  if (getCurrentScope()) onScopeDispose(() => mq.removeEventListener('change', onChange))
  return matches
}

export function useIsPhone(): Ref<boolean> {
  return useMedia(PHONE_QUERY)
}
