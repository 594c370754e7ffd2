/**
 * Whether the store answers. After an insert that never reached it, or a ping
 * that got no answer, the store counts as down: serve refuses new requests at
 * once (503) and probes until the store answers again, without a restart.
 */
import type {Store} from '../store/index.js'

import {messageOf} from '../errors.js'

export interface StoreLivenessOptions {
  log: (line: string) => void
  /** Told each time the store goes down or comes back. */
  onChange: (up: boolean) => void
  /** How often a store known to be down is probed (default 500 ms). */
  probeMs?: number
  /** How often a store known to be up is pinged (default 2 s), so a paused server is noticed without an insert timing out. */
  watchMs?: number
}

export class StoreLiveness {
  private isUp = true
  private probing = false
  private stopped = false
  private readonly watchdog: NodeJS.Timeout

  constructor(
    private readonly store: Pick<Store, 'ping'>,
    private readonly options: StoreLivenessOptions,
  ) {
    options.onChange(true)
    this.watchdog = setInterval(async () => {
      if (this.isUp && !this.stopped && !(await store.ping())) this.markDown(new Error('the store did not answer a ping'))
    }, options.watchMs ?? 2000)
    this.watchdog.unref()
  }

  get up(): boolean {
    return this.isUp
  }

  markDown(error: unknown): void {
    if (!this.isUp) return
    this.isUp = false
    this.options.onChange(false)
    this.options.log(`store unavailable: ${messageOf(error)}; answering 503 until it is back`)
    if (this.probing) return
    this.probing = true
    void this.probe()
  }

  /** The store answered (a ping from elsewhere, such as /health): requests are taken again. */
  markUp(): void {
    if (this.isUp || this.stopped) return
    this.isUp = true
    this.options.onChange(true)
    this.options.log('store reachable again')
  }

  /** Stop pinging and probing (on shutdown). */
  stop(): void {
    this.stopped = true
    clearInterval(this.watchdog)
  }

  private async probe(): Promise<void> {
    while (!this.isUp && !this.stopped) {
      await new Promise((resolve) => setTimeout(resolve, this.options.probeMs ?? 500))
      if (!this.isUp && (await this.store.ping())) this.markUp()
    }

    this.probing = false
  }
}
