// The Worker: a JavaScript handler run by the core's worker runtime. Concurrency, heartbeats,
// failures and timeouts, graceful shutdown, hooks, counters, signals, and a process that ends by
// itself once its worker is stopped.
import assert from 'node:assert/strict'
import { spawn, spawnSync } from 'node:child_process'
import { once } from 'node:events'
import { fileURLToPath } from 'node:url'
import { setTimeout as sleep } from 'node:timers/promises'
import { test } from 'node:test'

import { Connection, Item, WorkQueue, Worker } from 'leaseq'

import { openQueue, redisUrl, uniquePrefix } from './helpers.mjs'

const fixture = fileURLToPath(new URL('./fixtures/worker.cjs', import.meta.url))
const never = () => new Promise(() => {})

/** Resolves once `predicate()` is true, checking every 10 ms; fails after `ms`. */
async function waitFor(predicate, ms = 10_000, what = 'the condition') {
  const deadline = performance.now() + ms
  while (!(await predicate())) {
    if (performance.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await sleep(10)
  }
}

/** A queue with `options` on a fresh connection, closed after the test. */
async function queueWith(t, label, options) {
  const { connection } = await openQueue(t, label)
  return { connection, queue: new WorkQueue(connection, uniquePrefix(label), options) }
}

/** Starts `worker`; stops it after the test if the test did not (so a failure hangs nothing). */
function start(t, worker, options) {
  const run = worker.run(options)
  t.after(async () => {
    worker.stop()
    await run
  })
  return run
}

test('a worker runs the handler on every item and completes each once', async (t) => {
  const { queue } = await openQueue(t, 'worker-basic')
  const ids = Array.from({ length: 20 }, (_, n) => `item-${n}`)
  await queue.addItems(ids.map((id) => Item.fromJson({ id })))
  const seen = []
  const worker = new Worker(queue, async (item) => {
    assert.ok(item instanceof Item)
    assert.equal(item.attempts, 1)
    seen.push(item.json().id)
  }, { concurrency: 4, cleanEvery: null })
  const run = start(t, worker)
  await waitFor(() => worker.counters().completed === 20, 10_000, '20 completions')
  worker.stop()
  assert.equal(await run, undefined)
  assert.deepEqual([...seen].sort(), [...ids].sort())
  assert.deepEqual(worker.counters(), {
    leased: 20,
    completed: 20,
    failed: 0,
    retried: 0,
    renewed: 0,
    inFlight: 0,
  })
  assert.equal(await queue.queueLen(), 0)
  assert.equal(await queue.processing(), 0)
})

test('a handler that returns no Promise completes its item when it returns', async (t) => {
  const { queue } = await openQueue(t, 'worker-sync')
  await queue.addItem(new Item('x', 'sync'))
  let ran = 0
  const worker = new Worker(queue, () => {
    ran++
  })
  const run = start(t, worker)
  await waitFor(() => worker.counters().completed === 1)
  worker.stop()
  await run
  assert.equal(ran, 1)
})

test('concurrency is respected: at most N handlers at once, and N reached', async (t) => {
  const { queue } = await openQueue(t, 'worker-concurrency')
  await queue.addItems(Array.from({ length: 12 }, (_, n) => new Item(`${n}`)))
  let running = 0
  let peak = 0
  let peakInFlight = 0
  const worker = new Worker(queue, async () => {
    running++
    peak = Math.max(peak, running)
    peakInFlight = Math.max(peakInFlight, worker.counters().inFlight)
    await sleep(100)
    running--
  }, { concurrency: 3 })
  const run = start(t, worker)
  await waitFor(() => worker.counters().completed === 12)
  worker.stop()
  await run
  assert.equal(peak, 3)
  // The core's inFlight counts an item until its complete returns, and frees the slot when the
  // handler ends (the complete goes out with the next batch), so it may pass concurrency
  // briefly; what the binding adds is only the number's conversion.
  assert.ok(peakInFlight >= 3, `inFlight peaked at ${peakInFlight}`)
})

test('a slow job\'s lease is renewed past several lease durations, never delivered twice', async (t) => {
  const { connection, queue } = await openQueue(t, 'worker-heartbeat')
  await queue.addItem(new Item('slow', 'slow'))
  const deliveries = []
  const makeWorker = (name) =>
    new Worker(
      new WorkQueue(connection, queue.name), // a session of its own
      async (item) => {
        deliveries.push(`${name}:${item.id}:${item.attempts}`)
        await sleep(1200) // four lease durations
      },
      { leaseSecs: 0.3, cleanEvery: 0.1 },
    )
  const workers = [makeWorker('one'), makeWorker('two')]
  const runs = workers.map((worker) => start(t, worker))
  await waitFor(() => workers.some((worker) => worker.counters().completed === 1), 10_000, 'the completion')
  await sleep(400) // the other worker keeps leasing (and reclaiming expired leases) meanwhile
  for (const worker of workers) worker.stop()
  await Promise.all(runs)
  assert.equal(deliveries.length, 1, `delivered as ${deliveries}`)
  const [ran] = workers.filter((worker) => worker.counters().leased === 1)
  assert.ok(ran.counters().renewed >= 3, `renewed ${ran.counters().renewed} times`)
  assert.equal(workers.reduce((sum, worker) => sum + worker.counters().leased, 0), 1)
  assert.equal(await queue.deadLen(), 0)
})

test('a throw or a rejection fails the item with the error\'s message', async (t) => {
  const { queue } = await queueWith(t, 'worker-errors', { maxAttempts: 1 })
  await queue.addItems(['throws', 'rejects', 'string', 'empty', 'ok'].map((id) => new Item(id, id)))
  const outcomes = {}
  const worker = new Worker(
    queue,
    (item) => {
      switch (item.id) {
        case 'throws':
          throw new Error('sync boom')
        case 'rejects':
          return (async () => {
            await sleep(10)
            throw new TypeError('async boom')
          })()
        case 'string':
          return Promise.reject('plain string')
        case 'empty':
          throw new Error()
        default:
          return Promise.resolve(42) // any value completes
      }
    },
    { concurrency: 2, after: (item, outcome) => (outcomes[item.id] = outcome) },
  )
  const run = start(t, worker)
  await waitFor(() => Object.keys(outcomes).length === 5)
  worker.stop()
  await run
  const errors = Object.fromEntries((await queue.deadItems()).map((dead) => [dead.item.id, dead.error]))
  assert.deepEqual(errors, {
    throws: 'sync boom',
    rejects: 'async boom',
    string: 'plain string',
    empty: 'the handler failed without an error message',
  })
  assert.deepEqual(outcomes.throws, { outcome: 'failed', error: 'sync boom' })
  assert.deepEqual(outcomes.ok, { outcome: 'completed', completed: true })
  const counters = worker.counters()
  assert.equal(counters.failed, 4)
  assert.equal(counters.retried, 0)
  assert.equal(counters.completed, 1)
})

test('a failed item is retried after its backoff, and counted as retried', async (t) => {
  const { queue } = await queueWith(t, 'worker-retry', { maxAttempts: 3, backoffBase: 0.01, backoffMax: 0.02 })
  await queue.addItem(new Item('x', 'flaky'))
  const attempts = []
  const worker = new Worker(queue, async (item) => {
    attempts.push(item.attempts)
    if (item.attempts < 3) throw new Error(`attempt ${item.attempts} failed`)
  })
  const run = start(t, worker)
  await waitFor(() => worker.counters().completed === 1)
  worker.stop()
  await run
  assert.deepEqual(attempts, [1, 2, 3])
  const counters = worker.counters()
  assert.equal(counters.failed, 2)
  assert.equal(counters.retried, 2)
  assert.equal(await queue.deadLen(), 0)
})

test('a job timeout fails the item with a timeout error', async (t) => {
  const { queue } = await queueWith(t, 'worker-timeout', { maxAttempts: 1 })
  await queue.addItem(new Item('x', 'stuck'))
  let outcome
  const started = performance.now()
  const worker = new Worker(queue, never, {
    jobTimeout: 0.2,
    after: (_item, result) => (outcome = result),
  })
  const run = start(t, worker)
  await waitFor(() => outcome !== undefined)
  const elapsed = performance.now() - started
  worker.stop()
  await run
  assert.ok(elapsed >= 190 && elapsed < 3000, `failed after ${elapsed} ms`)
  assert.equal(outcome.outcome, 'failed')
  assert.match(outcome.error, /timed out after 200ms/)
  const [dead] = await queue.deadItems()
  assert.equal(dead.item.id, 'stuck')
  assert.match(dead.error, /timed out/)
  assert.equal(worker.counters().failed, 1)
})

test('stop() releases unfinished items at once after the shutdown timeout', async (t) => {
  const { queue } = await openQueue(t, 'worker-shutdown')
  await queue.addItems([new Item('x', 'a'), new Item('y', 'b'), new Item('z', 'c')])
  const outcomes = []
  const worker = new Worker(queue, never, {
    concurrency: 2,
    shutdownTimeout: 0.1,
    after: (item, outcome) => outcomes.push([item.id, outcome.outcome]),
  })
  const run = start(t, worker)
  await waitFor(() => worker.counters().inFlight === 2)
  const stoppedAt = performance.now()
  worker.stop()
  await run
  const took = performance.now() - stoppedAt
  assert.ok(took < 1000, `run ended ${took} ms after stop()`)
  assert.equal(await queue.processing(), 0)
  assert.equal(await queue.queueLen(), 3, 'both released items are back, the third never left')
  await waitFor(() => outcomes.length === 2)
  assert.deepEqual(outcomes.sort(), [['a', 'released'], ['b', 'released']])
  assert.equal(worker.counters().inFlight, 0)
  const again = await queue.lease(30, { block: false })
  assert.equal(again.attempts, 1, 'a release does not count the attempt')
})

test('stop() lets a handler that finishes within the shutdown timeout complete', async (t) => {
  const { queue } = await openQueue(t, 'worker-graceful')
  await queue.addItem(new Item('x', 'a'))
  const worker = new Worker(queue, () => sleep(300), { shutdownTimeout: 5 })
  const run = start(t, worker)
  await waitFor(() => worker.counters().inFlight === 1)
  worker.stop()
  await run
  assert.equal(worker.counters().completed, 1)
  assert.equal(await queue.queueLen(), 0)
  assert.equal(await queue.processing(), 0)
})

test('hooks run before and after each item, in order, with the outcome', async (t) => {
  // The core frees a job's slot when its handler ends and completes it with the next batch, so
  // item b may start before a's after hook (which waits for a's complete): what is ordered is
  // each item's own before, handle, after, and the items' starts (concurrency 1).
  const { queue } = await openQueue(t, 'worker-hooks')
  await queue.addItems([new Item('x', 'a'), new Item('y', 'b'), new Item('z', 'c')])
  const events = []
  const worker = new Worker(queue, async (item) => {
    events.push(`handle ${item.id}`)
  }, {
    before: (item) => events.push(`before ${item.id}`),
    after: (item, outcome) => events.push(`after ${item.id} ${outcome.outcome} ${outcome.completed}`),
  })
  const run = start(t, worker)
  await waitFor(() => events.length === 9)
  worker.stop()
  await run
  for (const id of ['a', 'b', 'c']) {
    const own = events.filter((event) => event.split(' ')[1] === id)
    assert.deepEqual(own, [`before ${id}`, `handle ${id}`, `after ${id} completed true`])
  }
  const starts = events.filter((event) => !event.startsWith('after'))
  assert.deepEqual(starts, ['before a', 'handle a', 'before b', 'handle b', 'before c', 'handle c'])
})

test('a worker can be run again after it stopped, and stop() right after run() is kept', async (t) => {
  const { queue } = await openQueue(t, 'worker-rerun')
  const worker = new Worker(queue, async () => {})
  const first = worker.run()
  worker.stop() // in the same turn: the run must still end
  await first
  await queue.addItem(new Item('x', 'later'))
  const second = start(t, worker)
  await waitFor(() => worker.counters().completed === 1)
  worker.stop()
  await second
})

test('a second run while one is going is refused with EINVAL; the first goes on', async (t) => {
  const { queue } = await openQueue(t, 'worker-second-run')
  await queue.addItem(new Item('x', 'first'))
  const worker = new Worker(queue, async () => {})
  const listeners = () => process.listenerCount('SIGTERM') + process.listenerCount('SIGINT')
  const listening = listeners()
  const first = start(t, worker)
  await waitFor(() => worker.counters().completed === 1)
  await assert.rejects(worker.run(), { code: 'EINVAL', message: /already running/ })
  await assert.rejects(worker.run({ stopOnSignals: true }), { code: 'EINVAL' })
  assert.equal(listeners(), listening, 'the refused run left no signal listeners')
  await queue.addItem(new Item('y', 'second'))
  await waitFor(() => worker.counters().completed === 2)
  worker.stop()
  await first
})

test('worker options are checked: out of range is EINVAL, wrong types throw', async (t) => {
  const { queue } = await openQueue(t, 'worker-options')
  const handler = async () => {}
  for (const options of [undefined, null, {}, { cleanEvery: null }, { cleanEvery: undefined, jobTimeout: 1 }]) {
    assert.ok(new Worker(queue, handler, options) instanceof Worker)
  }
  for (const [options, message] of [
    [{ concurrency: 0 }, /concurrency must be at least 1/],
    [{ concurrency: 1.5 }, /concurrency must be a whole number/],
    [{ concurrency: -1 }, /concurrency must be a whole number/],
    [{ leaseSecs: 0 }, /lease duration must be positive/],
    [{ leaseSecs: NaN }, /lease duration/],
    [{ jobTimeout: 0 }, /job timeout must be positive/],
    [{ jobTimeout: -1 }, /jobTimeout/],
    [{ shutdownTimeout: -1 }, /shutdownTimeout/],
    [{ cleanEvery: 0 }, /clean interval must be positive/],
    [{ cleanEvery: Infinity }, /cleanEvery/],
  ]) {
    assert.throws(() => new Worker(queue, handler, options), { code: 'EINVAL', message })
  }
  assert.throws(() => new Worker(queue, 'not a function'), { code: 'EINVAL', message: /handler must be a function/ })
  assert.throws(() => new Worker({}, handler), { code: 'EINVAL', message: /^queue must be an instance of WorkQueue, got an object$/ })
  assert.throws(() => new Worker(queue, handler, { before: 42 }), {
    code: 'EINVAL',
    message: /^options\.before must be a function, got a number \(42\)$/,
  })
})

test('a worker on a closed connection ends run with a connection error', async () => {
  const connection = await Connection.open(redisUrl)
  const queue = new WorkQueue(connection, uniquePrefix('worker-closed'))
  connection.close()
  const worker = new Worker(queue, async () => {})
  await assert.rejects(worker.run(), { code: 'ECONNECTION', message: /closed/ })
  assert.equal(worker.counters().leased, 0)
})

function runChild(mode, prefix) {
  const child = spawnSync(process.execPath, [fixture, mode, prefix], {
    encoding: 'utf8',
    timeout: 15_000,
    env: process.env,
  })
  assert.equal(child.error, undefined, `the child did not exit: ${child.error}`)
  assert.equal(child.signal, null, 'the child was killed (it did not exit by itself)')
  assert.equal(child.status, 0, child.stderr)
  return child.stdout
}

test('the process exits by itself once its worker is stopped', () => {
  assert.equal(runChild('stop', uniquePrefix('worker-exit')), 'completed 3\n')
})

test('the process exits by itself when stop() follows run() at once', () => {
  assert.equal(runChild('stop-now', uniquePrefix('worker-stop-now')), 'stopped\n')
})

test('a worker that was never run does not keep the process alive', () => {
  assert.equal(runChild('idle', uniquePrefix('worker-idle')), 'made\n')
})

test('a hook that throws is an uncaught exception with its own error; the item still runs', () => {
  assert.equal(
    runChild('hook-throws', uniquePrefix('worker-hook-throws')),
    'uncaught TypeError: hook boom\nhandled a\nafter a: completed\n',
  )
})

for (const signal of ['SIGTERM', 'SIGINT']) {
  test(`${signal} stops a worker run with stopOnSignals: released, exit 0 within 2 s`, async (t) => {
    const { queue } = await openQueue(t, `worker-${signal}`)
    const child = spawn(process.execPath, [fixture, 'signal', queue.name], { env: process.env })
    t.after(() => child.exitCode === null && child.kill('SIGKILL'))
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (chunk) => (stdout += chunk))
    child.stderr.on('data', (chunk) => (stderr += chunk))
    const exited = once(child, 'exit')
    await waitFor(() => stdout.includes('started a') && stdout.includes('started b'), 10_000, 'both items')
    const signalledAt = performance.now()
    child.kill(signal)
    const [code, killedBy] = await exited
    const took = performance.now() - signalledAt
    assert.equal(killedBy, null, `killed by ${killedBy}: ${stderr}`)
    assert.equal(code, 0, stderr)
    assert.ok(took < 2000, `exited ${took} ms after ${signal}`)
    assert.match(stdout, /stopped: \{"leased":2,"completed":0,"failed":0,"retried":0,"renewed":0,"inFlight":0\}/)
    assert.match(stdout, /listeners left: 0/)
    assert.match(stdout, /queued again: 2/)
    assert.equal(await queue.processing(), 0)
  })
}
