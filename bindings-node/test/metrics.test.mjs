// leaseq/metrics: a Worker's counters through prom-client, checked in the text a Prometheus
// server scrapes (register.metrics()). Imported by path: package.json's exports list it as
// `leaseq/metrics`.
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs'
import { createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { setTimeout as sleep } from 'node:timers/promises'
import { test } from 'node:test'

import client from 'prom-client'
import { Item, WorkQueue, Worker } from 'leaseq'

import { registerWorkerMetrics } from '../metrics.mjs'
import { openQueue, uniquePrefix } from './helpers.mjs'

const require = createRequire(import.meta.url)

async function waitFor(predicate, ms = 10_000, what = 'the condition') {
  const deadline = performance.now() + ms
  while (!(await predicate())) {
    if (performance.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await sleep(10)
  }
}

/** Starts `worker`; stops it after the test if the test did not. */
function start(t, worker) {
  const run = worker.run()
  t.after(async () => {
    worker.stop()
    await run
  })
  return run
}

/**
 * The registry's text exposition: `types` maps each metric to its `# TYPE`, `samples` each sample
 * (`name{labels}` as written) to its value.
 */
async function scrape(register) {
  const types = {}
  const samples = {}
  for (const line of (await register.metrics()).split('\n')) {
    const type = /^# TYPE (\S+) (\S+)$/.exec(line)
    if (type) types[type[1]] = type[2]
    const sample = /^([a-zA-Z_:][\w:]*(?:\{[^}]*\})?) (\S+)$/.exec(line)
    if (sample) samples[sample[1]] = Number(sample[2])
  }
  return { types, samples }
}

test('the metrics are the worker counters, per queue label', async (t) => {
  const { connection } = await openQueue(t, 'metrics')
  const queue = new WorkQueue(connection, uniquePrefix('metrics'), {
    maxAttempts: 3,
    backoffBase: 0.01,
    backoffMax: 0.01,
  })
  let failedOnce = false
  let releaseSlow
  const slowReleased = new Promise((resolve) => (releaseSlow = resolve))
  const worker = new Worker(queue, async (item) => {
    if (item.id === 'b' && !failedOnce) {
      failedOnce = true
      throw new Error('first attempt of b')
    }
    if (item.id === 'slow') await slowReleased
  }, { cleanEvery: null })
  t.after(() => releaseSlow())
  const register = new client.Registry()
  registerWorkerMetrics(worker, { register, queue: 'emails' })

  const before = await scrape(register)
  assert.deepEqual(before.types, {
    leaseq_worker_leased_total: 'counter',
    leaseq_worker_completed_total: 'counter',
    leaseq_worker_failed_total: 'counter',
    leaseq_worker_retried_total: 'counter',
    leaseq_worker_renewed_total: 'counter',
    leaseq_worker_in_flight: 'gauge',
  })
  assert.equal(before.samples['leaseq_worker_leased_total{queue="emails"}'], 0)

  await queue.addItems(['a', 'b', 'c'].map((id) => new Item(id, id)))
  const run = start(t, worker)
  await waitFor(() => worker.counters().completed === 3, 10_000, '3 completions')
  await queue.addItem(new Item('slow', 'slow'))
  await waitFor(() => worker.counters().inFlight === 1, 10_000, 'the slow item running')
  assert.deepEqual((await scrape(register)).samples, {
    'leaseq_worker_leased_total{queue="emails"}': 5,
    'leaseq_worker_completed_total{queue="emails"}': 3,
    'leaseq_worker_failed_total{queue="emails"}': 1,
    'leaseq_worker_retried_total{queue="emails"}': 1,
    'leaseq_worker_renewed_total{queue="emails"}': 0,
    'leaseq_worker_in_flight{queue="emails"}': 1,
  })

  releaseSlow()
  await waitFor(() => worker.counters().completed === 4, 10_000, 'the slow item completed')
  worker.stop()
  await run
  const after = (await scrape(register)).samples
  assert.equal(after['leaseq_worker_completed_total{queue="emails"}'], 4)
  assert.equal(after['leaseq_worker_in_flight{queue="emails"}'], 0)
})

test('workers on one registry share its metrics: a sample per queue, summed within one', async (t) => {
  const { connection } = await openQueue(t, 'metrics-queues')
  const emails = new WorkQueue(connection, uniquePrefix('metrics-emails'))
  const resize = new WorkQueue(connection, uniquePrefix('metrics-resize'))
  await emails.addItems([0, 1, 2].map((n) => new Item('mail', `mail-${n}`)))
  await resize.addItem(new Item('photo', 'photo'))
  const workers = [
    ['emails', new Worker(emails, () => {}, { cleanEvery: null })],
    ['emails', new Worker(emails, () => {}, { cleanEvery: null })],
    ['resize', new Worker(resize, () => {}, { cleanEvery: null })],
  ]
  const register = new client.Registry()
  for (const [queue, worker] of workers) registerWorkerMetrics(worker, { register, queue })
  const runs = workers.map(([, worker]) => start(t, worker))
  const completed = () => workers.reduce((sum, [, worker]) => sum + worker.counters().completed, 0)
  await waitFor(() => completed() === 4, 10_000, '4 completions')
  for (const [, worker] of workers) worker.stop()
  await Promise.all(runs)
  const { samples } = await scrape(register)
  assert.equal(samples['leaseq_worker_completed_total{queue="emails"}'], 3)
  assert.equal(samples['leaseq_worker_completed_total{queue="resize"}'], 1)
  assert.equal(register.getMetricsAsArray().length, 6)
})

test('the default registry, a prefix, and the registry cleared in between', async (t) => {
  const { queue } = await openQueue(t, 'metrics-default')
  const worker = new Worker(queue, () => {})
  registerWorkerMetrics(worker, { queue: 'emails', prefix: 'myapp_' })
  t.after(() => client.register.clear())
  let { samples } = await scrape(client.register)
  assert.equal(samples['myapp_leased_total{queue="emails"}'], 0)
  assert.equal(samples['myapp_in_flight{queue="emails"}'], 0)

  client.register.clear()
  registerWorkerMetrics(worker, { queue: 'resize', prefix: 'myapp_' })
  ;({ samples } = await scrape(client.register))
  assert.deepEqual(Object.keys(samples).filter((name) => name.startsWith('myapp_leased')), [
    'myapp_leased_total{queue="resize"}',
  ])
})

test('bad arguments, and a name another metric has', async (t) => {
  const { queue } = await openQueue(t, 'metrics-bad')
  const worker = new Worker(queue, () => {})
  const register = new client.Registry()
  assert.throws(() => registerWorkerMetrics(queue, { register, queue: 'q' }), {
    name: 'TypeError',
    message: /worker must be a leaseq Worker/,
  })
  assert.throws(() => registerWorkerMetrics(worker, { register }), /options\.queue must be a string/)
  assert.throws(() => registerWorkerMetrics(worker), /options\.queue must be a string/)
  assert.throws(
    () => registerWorkerMetrics(worker, { register, queue: 'q', prefix: 7 }),
    /options\.prefix must be a string/,
  )
  new client.Counter({ name: 'leaseq_worker_failed_total', help: 'theirs', registers: [register] })
  assert.throws(
    () => registerWorkerMetrics(worker, { register, queue: 'q' }),
    /a metric named leaseq_worker_failed_total is already registered/,
  )
  assert.equal(register.getMetricsAsArray().length, 1, 'none of leaseq made')
})

test('require and import give the same function', () => {
  assert.equal(require('../metrics.js').registerWorkerMetrics, registerWorkerMetrics)
})

test('without prom-client the error says what to install', (t) => {
  // metrics.js alone in a folder with no node_modules above it.
  const folder = mkdtempSync(join(tmpdir(), 'leaseq-metrics-'))
  t.after(() => rmSync(folder, { recursive: true, force: true }))
  copyFileSync(fileURLToPath(new URL('../metrics.js', import.meta.url)), join(folder, 'metrics.js'))
  const script = `
    try {
      require('./metrics.js').registerWorkerMetrics({ counters() {} }, { queue: 'q' })
    } catch (err) {
      console.log(err.code + ': ' + err.message)
    }`
  const result = spawnSync(process.execPath, ['-e', script], {
    cwd: folder,
    encoding: 'utf8',
    env: { ...process.env, NODE_PATH: '' },
  })
  assert.equal(
    result.stdout.trim(),
    'MODULE_NOT_FOUND: leaseq/metrics needs the prom-client package: npm install prom-client',
  )
})
