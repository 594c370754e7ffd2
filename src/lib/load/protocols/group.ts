/**
 * Records of a batch grouped by a key (OTLP by service, Loki by stream) with
 * a counting sort into reused arrays: no allocation per batch, and within a
 * group the records keep their order.
 */
export class Grouper {
  private keys = new Int32Array(0)
  private positions = new Int32Array(0)
  order = new Int32Array(0)
  /** Group g holds order[starts[g]] … order[starts[g + 1] - 1]. */
  starts = new Int32Array(0)

  /** Group records 0 … count-1 by `keyOf(i)` in [0, groups). */
  group(count: number, groups: number, keyOf: (i: number) => number): this {
    if (this.keys.length < count) {
      this.keys = new Int32Array(count)
      this.order = new Int32Array(count)
    }

    if (this.starts.length < groups + 1) {
      this.starts = new Int32Array(groups + 1)
      this.positions = new Int32Array(groups + 1)
    }

    const {keys, order, positions, starts} = this
    starts.fill(0, 0, groups + 1)
    for (let i = 0; i < count; i++) {
      const key = keyOf(i)
      keys[i] = key
      starts[key + 1]++
    }

    for (let g = 0; g < groups; g++) starts[g + 1] += starts[g]
    positions.set(starts.subarray(0, groups + 1))
    for (let i = 0; i < count; i++) order[positions[keys[i]]++] = i
    return this
  }
}
