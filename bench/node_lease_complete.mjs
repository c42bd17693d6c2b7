#!/usr/bin/env node
// Lease+complete per second from one Node.js process, leaseq against BullMQ, side by side on the
// same Redis: each system first gets N queued items, then workers take and finish them doing no
// work (concurrency 1 and 16), and the rate is N over the time until the last one is done.
// Median of 3 runs, the two systems taking turns; filling the queue is not timed.
//
//   (cd bench/node && npm install --no-audit --no-fund --no-package-lock)  # BullMQ, ioredis
//   (cd bindings-node && npx napi build --platform --release) # leaseq's native module
//   scripts/with-redis.sh node bench/node_lease_complete.mjs  # or set LEASEQ_REDIS_URL yourself
//
// Environment: LEASEQ_REDIS_URL (required; with-redis.sh sets it), BENCH_ITEMS (items per run at
// concurrency 1; 4x that at 16; default 5000), BENCH_RUNS (default 3).
import { randomUUID } from 'node:crypto'
import { createRequire } from 'node:module'

const url = process.env.LEASEQ_REDIS_URL
if (!url) {
  console.error('node_lease_complete: set LEASEQ_REDIS_URL, or run it under scripts/with-redis.sh')
  process.exit(2)
}
const baseItems = Number(process.env.BENCH_ITEMS ?? 5000)
const runs = Number(process.env.BENCH_RUNS ?? 3)
const concurrencies = [1, 16]
const payload = JSON.stringify({ photo: 17, size: 'small' })

const requireLeaseq = createRequire(new URL('../bindings-node/package.json', import.meta.url))
const requirePeers = createRequire(new URL('./node/package.json', import.meta.url))
const leaseq = requireLeaseq('./index.js')
let bullmq, IORedis
try {
  bullmq = requirePeers('bullmq')
  IORedis = requirePeers('ioredis')
} catch {
  console.error('node_lease_complete: install the peers first: (cd bench/node && npm install --no-audit --no-fund --no-package-lock)')
  process.exit(2)
}

async function leaseqRun(connection, concurrency, items) {
  const queue = new leaseq.WorkQueue(connection, `bench:leaseq:${randomUUID()}`)
  for (let start = 0; start < items; start += 1000) {
    const batch = Array.from({ length: Math.min(1000, items - start) }, () => new leaseq.Item(payload))
    await queue.addItems(batch)
  }
  let completed = 0
  const worker = async () => {
    for (;;) {
      const item = await queue.lease(30, { block: false })
      if (item === null) return
      if (await queue.complete(item)) completed++
    }
  }
  const started = performance.now()
  await Promise.all(Array.from({ length: concurrency }, worker))
  const seconds = (performance.now() - started) / 1000
  if (completed !== items) throw new Error(`leaseq completed ${completed} of ${items}`)
  return items / seconds
}

async function bullmqRun(redis, concurrency, items) {
  const name = `bench-bullmq-${randomUUID()}`
  const queue = new bullmq.Queue(name, { connection: redis })
  const jobOptions = { removeOnComplete: true, removeOnFail: true }
  for (let start = 0; start < items; start += 1000) {
    const count = Math.min(1000, items - start)
    await queue.addBulk(Array.from({ length: count }, () => ({ name: 'job', data: payload, opts: jobOptions })))
  }
  const worker = new bullmq.Worker(name, async () => {}, {
    connection: redis,
    concurrency,
    autorun: false,
  })
  await worker.waitUntilReady()
  let completed = 0
  const allDone = new Promise((resolve, reject) => {
    worker.on('completed', () => {
      if (++completed === items) resolve()
    })
    worker.on('failed', (_job, err) => reject(err))
    worker.on('error', reject)
  })
  const started = performance.now()
  const running = worker.run()
  await allDone
  const seconds = (performance.now() - started) / 1000
  await worker.close()
  await running
  await queue.obliterate({ force: true })
  await queue.close()
  return items / seconds
}

const bullmqVersion = requirePeers('bullmq/package.json').version
const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]

async function main() {
  const connection = await leaseq.Connection.open(url)
  const redis = new IORedis(url, { maxRetriesPerRequest: null })
  const rows = []
  for (const concurrency of concurrencies) {
    const items = concurrency === 1 ? baseItems : baseItems * 4
    const systems = [
      { system: 'leaseq', run: () => leaseqRun(connection, concurrency, items), rates: [] },
      { system: `BullMQ ${bullmqVersion}`, run: () => bullmqRun(redis, concurrency, items), rates: [] },
    ]
    // Interleaved, so that a busy moment on the machine hits both systems alike.
    for (let attempt = 0; attempt < runs; attempt++) {
      for (const entry of systems) entry.rates.push(await entry.run())
    }
    for (const { system, rates } of systems) {
      rows.push({ system, concurrency, items, rates, median: median(rates) })
      console.error(`  ${system}, concurrency ${concurrency}: ${rates.map((r) => r.toFixed(0)).join(', ')} /s`)
    }
  }
  connection.close()
  await redis.quit()

  const info = `node ${process.version}, redis at ${url}, ${runs} runs each, no-op work, payload ${payload.length} B`
  console.log(`\nlease+complete per second, one Node.js process (${info})\n`)
  console.log('| system | concurrency | items per run | runs (/s) | median (/s) |')
  console.log('|---|---:|---:|---|---:|')
  for (const row of rows) {
    const each = row.rates.map((rate) => rate.toFixed(0)).join(', ')
    console.log(`| ${row.system} | ${row.concurrency} | ${row.items} | ${each} | ${row.median.toFixed(0)} |`)
  }
  for (const concurrency of concurrencies) {
    const [ours, theirs] = rows.filter((row) => row.concurrency === concurrency)
    console.log(`\nconcurrency ${concurrency}: leaseq / BullMQ = ${(ours.median / theirs.median).toFixed(2)}x`)
  }
}

main().catch((err) => {
  console.error(err)
  process.exit(1)
})
