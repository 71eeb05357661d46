// Work the first screen does not need (the notification stream, counters
// in the navigation) waits until the page has loaded and the browser is
// idle, so it neither takes one of the few connections the browser opens
// per host nor the main thread while the first screen loads and renders.

/** whenIdle runs fn after the load event, when the main thread is idle (at most timeout ms later). */
export function whenIdle(fn: () => void, timeout = 2000): void {
  const go = () => {
    if ('requestIdleCallback' in window) window.requestIdleCallback(() => fn(), { timeout })
    else setTimeout(fn, 200)
  }
  if (document.readyState === 'complete') go()
  else window.addEventListener('load', go, { once: true })
}
