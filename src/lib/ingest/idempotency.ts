/**
 * Idempotency-Key bookkeeping: a retried request whose key already committed is
 * answered again without storing twice, and a retry that arrives while the first
 * attempt is still in flight waits for that attempt. Bounded (oldest keys are
 * forgotten first); kept in memory, so it covers retries to one serve process.
 */
export type KeyState = {state: 'committed'; accepted: number} | {state: 'pending'; done: Promise<number>}

export class IdempotencyCache {
  private readonly entries = new Map<string, KeyState>()

  constructor(private readonly capacity = 100_000) {}

  get size(): number {
    return this.entries.size
  }

  get(key: string): KeyState | undefined {
    return this.entries.get(key)
  }

  /** Record an attempt in flight; it becomes committed or is forgotten when `done` settles. */
  track(key: string, done: Promise<number>): void {
    this.set(key, {done, state: 'pending'})
    done.then(
      (accepted) => {
        if (this.entries.get(key)?.state === 'pending') this.set(key, {accepted, state: 'committed'})
      },
      () => {
        if (this.entries.get(key)?.state === 'pending') this.entries.delete(key)
      },
    )
  }

  private set(key: string, state: KeyState): void {
    this.entries.delete(key)
    this.entries.set(key, state)
    if (this.entries.size > this.capacity) {
      const oldest = this.entries.keys().next().value
      if (oldest !== undefined) this.entries.delete(oldest)
    }
  }
}
