// leaseq from Node.js: the binding's Worker with a no-op async handler at --concurrency, draining
// a queue the harness filled, for at most --seconds. Timed from the worker's start until the
// queue is empty and nothing is in flight (polled every 2 ms, as the Rust `worker` subcommand
// does), or until --seconds. Loads bindings-node (NAPI_RS_NATIVE_LIBRARY_PATH, set by the
// harness, points its loader at a release build). Prints one JSON line: ops (completed when the
// clock stopped), seconds, rate, drained, cpu_ops (also those finished while stopping).
import { createRequire } from 'node:module'
import { parseArgs } from 'node:util'

const require = createRequire(new URL('../../bindings-node/package.json', import.meta.url))
const { Connection, WorkQueue, Worker } = require('./index.js')

const { values } = parseArgs({
  options: {
    url: { type: 'string' },
    queue: { type: 'string' },
    seconds: { type: 'string', default: '2' },
    concurrency: { type: 'string', default: '16' },
  },
})
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms))
const connection = await Connection.open(values.url)
const queue = new WorkQueue(connection, values.queue)
const worker = new Worker(queue, async () => {}, {
  concurrency: Number(values.concurrency),
  leaseSecs: 300,
  cleanEvery: null,
})
let failure = null
const started = performance.now()
const deadline = started + Number(values.seconds) * 1000
const running = worker.run().catch((err) => {
  failure = err
})
let drained = false
while (performance.now() < deadline && failure === null) {
  await sleep(2)
  if ((await queue.queueLen()) === 0 && worker.counters().inFlight === 0) {
    drained = true
    break
  }
}
const elapsed = (performance.now() - started) / 1000
const ops = worker.counters().completed
worker.stop()
await running
if (failure !== null) throw failure
const counters = worker.counters()
if (counters.failed > 0) throw new Error(`the worker failed items: ${JSON.stringify(counters)}`)
connection.close()
console.log(JSON.stringify({ ops, seconds: elapsed, rate: ops / elapsed, drained, cpu_ops: counters.completed }))
