// Types of `leaseq/metrics` (metrics.js; hand-written, unlike the generated index.d.ts).
import type { Registry } from 'prom-client'

import type { Worker } from './index'

/** Options of {@link registerWorkerMetrics}. */
export interface WorkerMetricsOptions {
  /** The value of the `queue` label of the worker's samples (the queue's name, or what dashboards call it). */
  queue: string
  /** The registry the metrics go in. Default: prom-client's global `register`. */
  register?: Registry
  /** The start of the metrics' names. Default `'leaseq_worker_'`. */
  prefix?: string
}

/**
 * Reports a worker's counters through prom-client (an optional peer dependency:
 * `npm install prom-client`): the counters `leaseq_worker_leased_total`,
 * `leaseq_worker_completed_total`, `leaseq_worker_failed_total`, `leaseq_worker_retried_total`,
 * `leaseq_worker_renewed_total` and the gauge `leaseq_worker_in_flight`, labelled `queue`, read
 * from `worker.counters()` at each scrape (no Redis call).
 *
 * A registry takes each metric name once, so every worker registered on one registry (with one
 * prefix) shares the same metrics: a sample per `queue`, the counters of workers with the same
 * `queue` summed. A worker stays reported for as long as the metrics are registered.
 *
 * @throws TypeError if `worker` is not a Worker, or `queue` or `prefix` not a string.
 * @throws Error (code `MODULE_NOT_FOUND`) if prom-client is not installed; Error if a metric of
 *   one of these names is already in the registry, not made by this function.
 */
export declare function registerWorkerMetrics(worker: Worker, options: WorkerMetricsOptions): void
