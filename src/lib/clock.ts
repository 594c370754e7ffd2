/** Time, behind an interface so tests can drive it. */
export interface Clock {
  /** Monotonic milliseconds (fractions allowed), for durations and latencies. */
  now(): number
  /** Wall-clock epoch milliseconds, for timestamps. */
  wallNow(): number
  /** Resolve after `ms`, or early (without throwing) when the signal aborts. */
  sleep(ms: number, signal?: AbortSignal): Promise<void>
  /**
   * Milliseconds this thread's event loop has sat idle, waiting for I/O or timers, since it started.
   * Absent: the loop is taken as never busy (every wait is a wait on the outside world).
   */
  idleMs?(): number
}

export const systemClock: Clock = {
  idleMs: () => performance.eventLoopUtilization().idle,
  now: () => performance.now(),
  sleep(ms, signal) {
    return new Promise((resolve) => {
      if (signal?.aborted || ms <= 0) {
        resolve()
        return
      }

      const done = () => {
        clearTimeout(timer)
        signal?.removeEventListener('abort', done)
        resolve()
      }

      const timer = setTimeout(done, ms)
      signal?.addEventListener('abort', done, {once: true})
    })
  },
  wallNow: () => Date.now(),
}
