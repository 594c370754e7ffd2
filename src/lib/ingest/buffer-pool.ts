/**
 * Reused byte buffers for request bodies, encoded rows and insert bodies. Each
 * fresh large Buffer is memory outside the JavaScript heap, and V8 answers a
 * fast stream of them with full garbage collections (dozens a second under
 * load); buffers handed back here are lent again instead. Sizes are powers of
 * two; at most `maxIdleBytes` wait idle, so the pool never holds much.
 */
const MIN_SHIFT = 16 // 64 KiB: smaller buffers come from Node's own pool

export class BufferPool {
  private readonly free: Buffer[][] = []
  private idleBytes = 0
  /** Memory this pool made, and which of it is idle: nothing else is ever lent, nothing twice. */
  private readonly made = new WeakSet<ArrayBufferLike>()
  private readonly idleSet = new WeakSet<ArrayBufferLike>()

  constructor(private readonly maxIdleBytes = 48 * 1024 * 1024) {}

  /** A buffer of at least `size` bytes (its contents are not cleared). */
  acquire(size: number): Buffer {
    if (size < 1 << MIN_SHIFT) return Buffer.allocUnsafe(size)
    const shift = Math.max(MIN_SHIFT, 32 - Math.clz32(size - 1))
    const list = this.free[shift]
    const reused = list?.pop()
    if (reused) {
      this.idleBytes -= reused.length
      this.idleSet.delete(reused.buffer)
      return reused
    }

    const fresh = Buffer.allocUnsafeSlow(2 ** shift)
    this.made.add(fresh.buffer)
    return fresh
  }

  /** Hand back a buffer from acquire (or a view of one) once nothing reads it any more. */
  release(buffer: Buffer): void {
    const memory = buffer.buffer
    if (!this.made.has(memory) || this.idleSet.has(memory) || this.idleBytes + memory.byteLength > this.maxIdleBytes) return
    const shift = 31 - Math.clz32(memory.byteLength)
    ;(this.free[shift] ??= []).push(Buffer.from(memory, 0, memory.byteLength))
    this.idleSet.add(memory)
    this.idleBytes += memory.byteLength
  }

  get idle(): number {
    return this.idleBytes
  }
}
