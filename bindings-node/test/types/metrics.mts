// Type-checked by `tsc --noEmit -p test/types` (run by test.sh), never run: metrics.d.ts (hand-written)
// describes leaseq/metrics as used here. By path: package.json's exports list it as `leaseq/metrics`.
import { Registry } from 'prom-client'
import type { Worker } from 'leaseq'

import { registerWorkerMetrics } from '../../metrics.js'
import type { WorkerMetricsOptions } from '../../metrics.js'

export function metrics(worker: Worker): Registry {
  const register = new Registry()
  const options: WorkerMetricsOptions = { register, queue: 'emails', prefix: 'myapp_' }
  const nothing: void = registerWorkerMetrics(worker, options)
  registerWorkerMetrics(worker, { queue: 'resize' })
  // @ts-expect-error the queue label is required
  registerWorkerMetrics(worker, { register })
  // @ts-expect-error a Worker, not its counters
  registerWorkerMetrics(worker.counters(), { queue: 'emails' })
  void nothing
  return register
}
