import {Counter, Gauge, Histogram, Registry} from 'prom-client'

/** Figures read when the metrics are collected, rather than kept up to date on every request. */
export interface MetricSources {
  /** Bytes held for the request bodies being received now. */
  readingBytes?: () => number
  /** Connections discarding the rest of a refused body now. */
  lingering?: () => number
}

/** Prometheus metrics of one ingest server, in a registry of its own. */
export class IngestMetrics {
  readonly registry = new Registry()
  readonly sources: MetricSources = {}
  readonly accepted = new Counter({help: 'Log entries committed to storage and acknowledged', name: 'logbench_ingest_accepted_total', registers: [this.registry]})
  readonly rejected = new Counter({
    help: 'Requests refused, by reason (invalid, too_large, unsupported_type, unauthorized, overloaded, store_unavailable, insert_failed, shutting_down)',
    labelNames: ['reason'] as const,
    name: 'logbench_ingest_rejected_requests_total',
    registers: [this.registry],
  })

  readonly requests = new Counter({help: 'HTTP requests answered, by status', labelNames: ['status'] as const, name: 'logbench_ingest_requests_total', registers: [this.registry]})
  readonly duplicates = new Counter({help: 'Requests answered from the Idempotency-Key cache without storing again', name: 'logbench_ingest_idempotent_replays_total', registers: [this.registry]})
  readonly inserts = new Counter({help: 'INSERT statements, by result', labelNames: ['result'] as const, name: 'logbench_ingest_inserts_total', registers: [this.registry]})
  readonly insertRows = new Histogram({
    buckets: [1, 100, 1000, 5000, 10_000, 25_000, 50_000, 100_000, 250_000],
    help: 'Rows per INSERT',
    name: 'logbench_ingest_insert_rows',
    registers: [this.registry],
  })

  readonly insertSeconds = new Histogram({
    buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    help: 'INSERT latency in seconds',
    name: 'logbench_ingest_insert_duration_seconds',
    registers: [this.registry],
  })

  readonly bufferRows = new Gauge({help: 'Rows buffered (pending and being inserted)', name: 'logbench_ingest_buffer_rows', registers: [this.registry]})
  readonly bufferBytes = new Gauge({help: 'Bytes buffered (pending and being inserted)', name: 'logbench_ingest_buffer_bytes', registers: [this.registry]})
  readonly bufferFill = new Gauge({help: 'Buffer fill, 0..1 (the larger of rows and bytes)', name: 'logbench_ingest_buffer_fill_ratio', registers: [this.registry]})
  readonly discardedBytes = new Counter({
    help: 'Bytes of refused request bodies read and discarded before their connection closed',
    name: 'logbench_ingest_discarded_bytes_total',
    registers: [this.registry],
  })

  readonly lingeringCloses = new Counter({
    help: 'Connections closed after an answer sent before the body was read, by how the rest of the body ended (drained, client_closed, byte_limit, time_limit, shutdown)',
    labelNames: ['end'] as const,
    name: 'logbench_ingest_lingering_closes_total',
    registers: [this.registry],
  })

  readonly lingering: Gauge = new Gauge({
    collect: (): void => this.lingering.set(this.sources.lingering?.() ?? 0),
    help: 'Connections reading and discarding the rest of a refused body now',
    name: 'logbench_ingest_lingering_connections',
    registers: [this.registry],
  })

  readonly readingBytes: Gauge = new Gauge({
    collect: (): void => this.readingBytes.set(this.sources.readingBytes?.() ?? 0),
    help: 'Bytes held for the request bodies being received now (counted against the budget of bodies read at once)',
    name: 'logbench_ingest_reading_bytes',
    registers: [this.registry],
  })

  readonly keyWaits = new Gauge({
    help: 'Requests waiting for an earlier attempt with the same Idempotency-Key to settle',
    name: 'logbench_ingest_idempotency_waits',
    registers: [this.registry],
  })

  readonly storeUp = new Gauge({help: '1 when the store is reachable', name: 'logbench_ingest_store_up', registers: [this.registry]})
  /** The process's own CPU and memory, so a load run can chart serve's resources. */
  readonly cpuSeconds = new Gauge({
    collect() {
      const usage = process.cpuUsage()
      this.set((usage.user + usage.system) / 1e6)
    },
    help: 'Total user and system CPU time spent in seconds',
    name: 'process_cpu_seconds_total',
    registers: [this.registry],
  })

  readonly residentBytes = new Gauge({
    collect() {
      this.set(process.memoryUsage.rss())
    },
    help: 'Resident memory size in bytes',
    name: 'process_resident_memory_bytes',
    registers: [this.registry],
  })
}
