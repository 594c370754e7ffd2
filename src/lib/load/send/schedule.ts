/**
 * The open model's schedule: a rate that is constant, or shaped by stages
 * (k6's ramping arrival rate: over each stage the rate moves linearly from the
 * previous stage's end rate to the stage's own; a 0-length stage jumps), with
 * an optional warm-up at the first stage's start rate before them. Send times
 * come from the integrated rate, so pacing is continuous: batch b is due when
 * the logs the rate has made due reach b x batchSize, not on a per-second
 * staircase.
 */

export interface Stage {
  durationMs: number
  /** Logs per second at the end of the stage. */
  rate: number
}

/** One piece of the schedule: the rate moves linearly from `from` to `to` over [startMs, endMs). */
export interface Segment {
  kind: 'warmup' | 'stage'
  /** Index among the stages (the warm-up is -1). */
  index: number
  startMs: number
  endMs: number
  from: number
  to: number
  /** Logs due before the segment starts. */
  before: number
}

export interface ScheduleSpec {
  /** A constant rate (no stages). */
  rate?: number
  stages?: readonly Stage[]
  /** Where the first stage starts (default: its own rate, i.e. a hold). */
  startRate?: number
  warmupMs?: number
  /** A constant rate's length (stages carry their own). */
  durationMs?: number
}

export class Schedule {
  readonly segments: Segment[]
  /** The whole schedule's length, ms (Infinity for a constant rate without a duration). */
  readonly durationMs: number
  /** Logs the whole schedule makes due (Infinity without an end). */
  readonly totalLogs: number

  constructor(spec: ScheduleSpec) {
    const segments: Segment[] = []
    let at = 0
    let due = 0
    const push = (kind: Segment['kind'], index: number, durationMs: number, from: number, to: number) => {
      segments.push({before: due, endMs: at + durationMs, from, index, kind, startMs: at, to})
      due += ((from + to) / 2) * (durationMs / 1000)
      at += durationMs
    }

    const stages = spec.stages ?? []
    const first = stages.length > 0 ? (spec.startRate ?? stages[0].rate) : (spec.rate ?? 0)
    if (spec.warmupMs) push('warmup', -1, spec.warmupMs, first, first)
    if (stages.length > 0) {
      let previous = first
      for (const [index, stage] of stages.entries()) {
        push('stage', index, stage.durationMs, previous, stage.rate)
        previous = stage.rate
      }
    } else {
      if (!(first > 0)) throw new TypeError('a schedule needs a rate above 0 or stages')
      push('stage', 0, spec.durationMs ?? Number.POSITIVE_INFINITY, first, first)
    }

    this.segments = segments
    this.durationMs = at
    this.totalLogs = due
  }

  /** The segment holding offset `ms` (the last one past the end). */
  segmentAt(ms: number): Segment {
    for (const segment of this.segments) if (ms < segment.endMs) return segment
    return this.segments.at(-1)!
  }

  /** Logs due by offset `ms` from the start: the integral of the rate. */
  dueBy(ms: number): number {
    if (ms <= 0) return 0
    const segment = this.segmentAt(ms)
    const t = (Math.min(ms, segment.endMs) - segment.startMs) / 1000
    const span = (segment.endMs - segment.startMs) / 1000
    const slope = Number.isFinite(span) && span > 0 ? (segment.to - segment.from) / span : 0
    return segment.before + segment.from * t + (slope * t * t) / 2
  }

  /** The offset, ms, at which `logs` logs have become due (Infinity when the schedule never reaches them). */
  timeOf(logs: number): number {
    if (logs <= 0) return 0
    for (const segment of this.segments) {
      const span = (segment.endMs - segment.startMs) / 1000
      const inSegment = Number.isFinite(span) ? ((segment.from + segment.to) / 2) * span : Number.POSITIVE_INFINITY
      if (logs > segment.before + inSegment + 1e-9) continue
      const n = logs - segment.before
      const slope = Number.isFinite(span) && span > 0 ? (segment.to - segment.from) / span : 0
      // Solve from·t + slope·t²/2 = n for the smallest t ≥ 0.
      let t: number
      if (Math.abs(slope) < 1e-12) t = segment.from > 0 ? n / segment.from : 0
      else {
        const disc = Math.max(0, segment.from * segment.from + 2 * slope * n)
        t = (-segment.from + Math.sqrt(disc)) / slope
      }

      return segment.startMs + Math.min(Math.max(0, t * 1000), segment.endMs - segment.startMs)
    }

    return Number.POSITIVE_INFINITY
  }

  /** The rate at offset `ms`, logs per second. */
  rateAt(ms: number): number {
    const segment = this.segmentAt(ms)
    const span = segment.endMs - segment.startMs
    if (!Number.isFinite(span) || span <= 0) return segment.to
    const t = Math.min(Math.max(0, ms - segment.startMs), span)
    return segment.from + ((segment.to - segment.from) * t) / span
  }

  /** Offset of the end of the warm-up, ms (0 without one). */
  get warmupMs(): number {
    return this.segments[0]?.kind === 'warmup' ? this.segments[0].endMs : 0
  }
}
