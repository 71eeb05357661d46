// The signed-in user's inbox as the header bell shows it: the unread count
// and the newest notifications, kept current by the server-sent events of
// GET /api/v1/notifications/stream (one EventSource per tab). When the
// stream cannot be opened the store reconnects with back-off and, after a
// few failures in a row, polls the inbox every 30 s until the stream works
// again. start() when the app shell appears, stop() when it goes (sign-out,
// session end): the connection is closed and the state forgotten.
import { defineStore } from 'pinia'
import { ref, shallowRef } from 'vue'
import { inbox, STREAM_URL, type Notification } from '@/api/automation'

/** How many of the newest notifications the bell keeps. */
const KEEP = 8
const POLL_MS = 30_000
/** Failed connects in a row before polling takes over (the stream is still retried). */
const POLL_AFTER = 3
const MAX_BACKOFF_MS = 60_000

export type StreamMode = 'off' | 'connecting' | 'live' | 'polling'

export const useNotifications = defineStore('notifications', () => {
  const unread = ref(0)
  const latest = shallowRef<Notification[]>([])
  const mode = ref<StreamMode>('off')
  /** Called with each notification that arrives while the app is open (toasts). */
  const listeners = new Set<(n: Notification) => void>()

  let es: EventSource | null = null
  let running = false
  let failures = 0
  let retryTimer: ReturnType<typeof setTimeout> | undefined
  let pollTimer: ReturnType<typeof setInterval> | undefined
  /** The largest id seen: polling tells new notifications by it. */
  let seen = 0
  /** The inbox has been read once since start (what polling finds after is new). */
  let primed = false
  /** Bumped by every count that arrives from the stream or a mark-read, so a slower inbox read cannot undo it. */
  let version = 0

  const num = (id: string) => Number.parseInt(id, 10) || 0

  function remember(items: Notification[]) {
    for (const n of items) seen = Math.max(seen, num(n.id))
  }

  function arrived(n: Notification) {
    if (latest.value.some((x) => x.id === n.id)) return
    latest.value = [n, ...latest.value].slice(0, KEEP)
    remember([n])
    for (const fn of listeners) fn(n)
  }

  /** refresh reads the newest notifications; while polling, the new ones are announced. */
  async function refresh(announce = false): Promise<void> {
    const before = seen
    const v = version
    const page = await inbox.list({ limit: KEEP })
    if (!running) return
    const fresh = announce && primed ? page.items.filter((n) => num(n.id) > before && !n.read).reverse() : []
    if (v === version) {
      unread.value = page.unread
      latest.value = page.items
    } else {
      // The stream spoke meanwhile: keep what it brought, add what the read found.
      const have = new Set(latest.value.map((n) => n.id))
      latest.value = [...latest.value, ...page.items.filter((n) => !have.has(n.id))].sort((a, b) => num(b.id) - num(a.id)).slice(0, KEEP)
    }
    remember(page.items)
    primed = true
    for (const n of fresh) for (const fn of listeners) fn(n)
  }

  function clearTimers() {
    clearTimeout(retryTimer)
    retryTimer = undefined
  }

  function startPolling() {
    if (pollTimer) return
    mode.value = 'polling'
    pollTimer = setInterval(() => void refresh(true).catch(() => {}), POLL_MS)
  }

  function stopPolling() {
    clearInterval(pollTimer)
    pollTimer = undefined
  }

  function backoff(n: number): number {
    const base = Math.min(MAX_BACKOFF_MS, 1000 * 2 ** Math.min(n - 1, 6))
    return base / 2 + Math.random() * (base / 2)
  }

  function connect() {
    clearTimers()
    if (!running) return
    if (typeof EventSource === 'undefined') {
      startPolling()
      return
    }
    if (!pollTimer) mode.value = 'connecting'
    const src = new EventSource(STREAM_URL)
    es = src
    let open = false
    src.onopen = () => {
      if (es !== src) return
      open = true
      failures = 0
      stopPolling()
      mode.value = 'live'
    }
    src.addEventListener('unread', (e) => {
      const d = parse<{ unread: number }>(e)
      if (!d || es !== src) return
      version++
      unread.value = d.unread
    })
    src.addEventListener('notification', (e) => {
      const d = parse<{ notification: Notification; unread: number }>(e)
      if (!d || es !== src) return
      version++
      unread.value = d.unread
      arrived(d.notification)
    })
    src.onerror = () => {
      if (es !== src) return
      if (open && src.readyState === EventSource.CONNECTING) {
        // An open stream ended (the server closes it every few minutes):
        // the browser reconnects by itself, with Last-Event-ID, so nothing
        // is missed. A second error before it opens again is a failure.
        open = false
        if (!pollTimer) mode.value = 'connecting'
        return
      }
      src.close()
      es = null
      failures++
      // Reading the inbox also notices a session that has ended (401 →
      // sign-in page) and keeps the count right meanwhile.
      void refresh(true).catch(() => {})
      if (failures >= POLL_AFTER) startPolling()
      else if (!pollTimer) mode.value = 'connecting'
      retryTimer = setTimeout(connect, backoff(failures))
    }
  }

  /** start opens the stream (once per tab) and reads the newest notifications. */
  function start() {
    if (running) return
    running = true
    failures = 0
    void refresh().catch(() => {})
    connect()
  }

  /** stop closes the stream and forgets the inbox (sign-out). */
  function stop() {
    running = false
    clearTimers()
    stopPolling()
    es?.close()
    es = null
    mode.value = 'off'
    unread.value = 0
    latest.value = []
    seen = 0
    primed = false
  }

  async function markRead(id: string): Promise<void> {
    const res = await inbox.read(id)
    version++
    unread.value = res.unread
    latest.value = latest.value.map((n) => (n.id === id && !n.read ? { ...n, read: true, read_at: new Date().toISOString() } : n))
  }

  async function markAllRead(): Promise<number> {
    const res = await inbox.readAll()
    version++
    unread.value = res.unread
    const now = new Date().toISOString()
    latest.value = latest.value.map((n) => (n.read ? n : { ...n, read: true, read_at: now }))
    return res.marked
  }

  /** onArrive registers a listener of new notifications; returns its removal. */
  function onArrive(fn: (n: Notification) => void): () => void {
    listeners.add(fn)
    return () => listeners.delete(fn)
  }

  return { unread, latest, mode, start, stop, refresh, markRead, markAllRead, onArrive }
})

function parse<T>(e: Event): T | null {
  try {
    return JSON.parse((e as MessageEvent<string>).data) as T
  } catch {
    return null
  }
}
