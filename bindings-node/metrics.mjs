// The ES module entry of `leaseq/metrics`: the same function as `require('leaseq/metrics')`.
export { registerWorkerMetrics } from './metrics.js'
