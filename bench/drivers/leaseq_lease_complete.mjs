// leaseq from Node.js: --concurrency async loops of lease+complete in one process, for
// --seconds on a queue the harness filled. Loads bindings-node (NAPI_RS_NATIVE_LIBRARY_PATH,
// set by the harness, points its loader at a release build). Prints one JSON line.
import { createRequire } from 'node:module'
import { parseArgs } from 'node:util'

const require = createRequire(new URL('../../bindings-node/package.json', import.meta.url))
const { Connection, WorkQueue } = require('./index.js')

const { values } = parseArgs({
  options: {
    url: { type: 'string' },
    queue: { type: 'string' },
    seconds: { type: 'string', default: '2' },
    concurrency: { type: 'string', default: '1' },
  },
})
const connection = await Connection.open(values.url)
const queue = new WorkQueue(connection, values.queue)
const started = performance.now()
const deadline = started + Number(values.seconds) * 1000
let ops = 0
let drained = false

async function loop() {
  while (performance.now() < deadline) {
    const item = await queue.lease(300, { block: false })
    if (item === null) {
      drained = true
      return
    }
    if (!(await queue.complete(item))) throw new Error(`complete(${item.id}) returned false`)
    ops++
  }
}

await Promise.all(Array.from({ length: Number(values.concurrency) }, loop))
const elapsed = (performance.now() - started) / 1000
connection.close()
console.log(JSON.stringify({ ops, seconds: elapsed, rate: ops / elapsed, drained }))
