// BullMQ (npm), timed like leaseq, from bench/node/node_modules (the Node engineer's install).
//
//   fill --count N            queue N jobs with addBulk (before a timed consume)
//   consume --concurrency C   a Worker doing no-op jobs, for --seconds (after 0.25 s of warm-up)
//                             or until the --prefill jobs queued by fill beforehand are done
//   produce --batch B         addBulk of B jobs at a time for --seconds
//   memory  --count N         INFO used_memory growth per job after adding N jobs
//
// Jobs carry a 100-byte JSON payload (a 98-character string) and removeOnComplete, the
// lightest setting, matching a queue that deletes what is done. Prints one JSON line.
import { createRequire } from 'node:module'
import { parseArgs } from 'node:util'

const require = createRequire(new URL('../node/package.json', import.meta.url))
const { Queue, Worker } = require('bullmq')
const IORedis = require('ioredis')

const { positionals, values } = parseArgs({
  allowPositionals: true,
  options: {
    url: { type: 'string' },
    queue: { type: 'string' },
    seconds: { type: 'string', default: '2' },
    concurrency: { type: 'string', default: '1' },
    prefill: { type: 'string', default: '20000' },
    batch: { type: 'string', default: '100' },
    count: { type: 'string', default: '100000' },
  },
})
const mode = positionals[0]
const seconds = Number(values.seconds)
const data = 'abcdefghijklmnopqrstuvwxyz'.repeat(4).slice(0, 98)
const opts = { removeOnComplete: true, removeOnFail: true }
const connection = new IORedis(values.url, { maxRetriesPerRequest: null })
const queue = new Queue(values.queue, { connection })

async function addJobs(count, batch = 1000) {
  for (let done = 0; done < count; done += batch) {
    const size = Math.min(batch, count - done)
    await queue.addBulk(Array.from({ length: size }, () => ({ name: 'job', data, opts })))
  }
}

async function fill() {
  await addJobs(Number(values.count))
  return { ops: Number(values.count) }
}

async function consume() {
  const worker = new Worker(values.queue, async () => {}, {
    connection,
    concurrency: Number(values.concurrency),
    autorun: false,
  })
  await worker.waitUntilReady()
  let ops = 0
  let last = 0
  worker.on('completed', () => {
    ops++
    last = performance.now()
  })
  worker.on('failed', (_job, err) => {
    console.error(err)
    process.exit(1)
  })
  const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms))
  const left = () => Number(values.prefill) - ops
  const running = worker.run()
  // The Worker's first fetches (and V8's warm-up) are not counted: 0.25 s, then the clock starts.
  await sleep(250)
  const [startOps, started] = [ops, performance.now()]
  while (performance.now() - started < seconds * 1000 && left() > 0) await sleep(5)
  const counted = ops - startOps
  const elapsed = ((left() > 0 ? performance.now() : last) - started) / 1000
  await worker.close(true)
  await running
  // cpu_ops: every job this process completed, for the harness's CPU-per-job figure.
  return { ops: counted, cpu_ops: ops, seconds: elapsed, rate: counted / elapsed, drained: left() <= 0 }
}

async function produce() {
  const batch = Number(values.batch)
  let ops = 0
  const started = performance.now()
  while (performance.now() - started < seconds * 1000) {
    await queue.addBulk(Array.from({ length: batch }, () => ({ name: 'job', data, opts })))
    ops += batch
  }
  const elapsed = (performance.now() - started) / 1000
  return { ops, seconds: elapsed, rate: ops / elapsed, drained: false }
}

async function memory() {
  // The marginal cost of --count more jobs once 1000 are queued, measured on a connection of its
  // own with the queue's connection closed (as for leaseq).
  const info = new IORedis(values.url)
  const used = async () => Number(/used_memory:(\d+)/.exec(await info.info('memory'))[1])
  const count = Number(values.count)
  await addJobs(1000)
  await queue.close()
  await connection.quit()
  await new Promise((resolve) => setTimeout(resolve, 200))
  const before = await used()
  const again = new IORedis(values.url, { maxRetriesPerRequest: null })
  const more = new Queue(values.queue, { connection: again })
  for (let done = 0; done < count; done += 1000) {
    const size = Math.min(1000, count - done)
    await more.addBulk(Array.from({ length: size }, () => ({ name: 'job', data, opts })))
  }
  await more.close()
  await again.quit()
  await new Promise((resolve) => setTimeout(resolve, 200))
  const after = await used()
  await info.quit()
  return { items: count, used_memory_delta: after - before, bytes_per_item: (after - before) / count }
}

const run = { fill, consume, produce, memory }[mode]
if (!run) {
  console.error('usage: bullmq.mjs fill|consume|produce|memory --url URL --queue NAME [...]')
  process.exit(2)
}
const result = await run()
if (connection.status !== 'end') {
  await queue.close()
  await connection.quit()
}
console.log(JSON.stringify(result))
