// Routing by item type: a Worker given an object of handlers runs each item on the handler of
// its type (the JSON field "type", `item.typeName`); the routing and its errors are the core's.
import assert from 'node:assert/strict'
import { setTimeout as sleep } from 'node:timers/promises'
import { test } from 'node:test'

import { Item, WorkQueue, Worker } from 'leaseq'

import { openQueue, uniquePrefix } from './helpers.mjs'

/** Resolves once `predicate()` is true, checking every 10 ms; fails after `ms`. */
async function waitFor(predicate, ms = 10_000, what = 'the condition') {
  const deadline = performance.now() + ms
  while (!(await predicate())) {
    if (performance.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await sleep(10)
  }
}

/** Starts `worker`; stops it after the test if the test did not (so a failure hangs nothing).
 *  openQueue's teardown, registered first, closes the connection first: a worker whose connection
 *  is closed ends `run` with ECONNECTION (the core's rule), which is then expected here. */
function start(t, worker) {
  const run = worker.run()
  t.after(async () => {
    worker.stop()
    await run.catch((err) => {
      if (err.code !== 'ECONNECTION') throw err
    })
  })
  return run
}

test('item.typeName is the string field "type" of JSON object data, else null', () => {
  assert.equal(Item.fromJson({ type: 'email', to: 'a@example.com' }).typeName, 'email')
  assert.equal(new Item('{"type":"resize","size":[1,2]}').typeName, 'resize')
  assert.equal(Item.fromJson({ type: '' }).typeName, '')
  assert.equal(Item.fromJson({ type: 'é ✓' }).typeName, 'é ✓')
  for (const untyped of [
    Item.fromJson({ to: 'a@example.com' }),
    Item.fromJson({ type: 42 }),
    Item.fromJson({ type: null }),
    Item.fromJson({ type: ['email'] }),
    Item.fromJson('email'),
    Item.fromJson(null),
    new Item('not json'),
    new Item(Buffer.from([0xff, 0xfe])),
    new Item(''),
  ]) {
    assert.equal(untyped.typeName, null, `typeName of ${untyped.data.toString()}`)
  }
})

test('a routed worker runs each typed item on the handler of its type', async (t) => {
  const { queue } = await openQueue(t, 'routing-basic')
  const emails = Array.from({ length: 5 }, (_, n) => `to-${n}@example.com`)
  const photos = Array.from({ length: 5 }, (_, n) => n)
  await queue.addItems([
    ...emails.map((to) => Item.fromJson({ type: 'email', to })),
    ...photos.map((photo) => Item.fromJson({ type: 'resize', photo })),
  ])
  const sent = []
  const resized = []
  const worker = new Worker(queue, {
    email: async (item) => {
      assert.ok(item instanceof Item)
      assert.equal(item.typeName, 'email')
      sent.push(item.json().to)
    },
    // A handler that returns no Promise completes its item when it returns.
    resize: (item) => {
      assert.equal(item.typeName, 'resize')
      resized.push(item.json().photo)
    },
  }, { concurrency: 3, cleanEvery: null })
  const run = start(t, worker)
  await waitFor(() => worker.counters().completed === 10, 10_000, '10 completions')
  worker.stop()
  await run
  assert.deepEqual([...sent].sort(), [...emails].sort())
  assert.deepEqual([...resized].sort(), [...photos].sort())
  assert.equal(worker.counters().failed, 0)
  assert.equal(await queue.queueLen(), 0)
  assert.equal(await queue.deadLen(), 0)
})

test('a routed handler that throws or rejects fails its item with its own error', async (t) => {
  const { connection } = await openQueue(t, 'routing-fails')
  const queue = new WorkQueue(connection, uniquePrefix('routing-fails'), { maxAttempts: 1 })
  await queue.addItem(new Item(JSON.stringify({ type: 'email' }), 'mail'))
  await queue.addItem(new Item(JSON.stringify({ type: 'resize' }), 'photo'))
  const worker = new Worker(queue, {
    email: async () => {
      throw new Error('smtp down')
    },
    resize: () => {
      throw new Error('bad photo')
    },
  }, { cleanEvery: null })
  start(t, worker)
  await waitFor(async () => (await queue.deadLen()) === 2, 10_000, 'two dead letters')
  const dead = Object.fromEntries((await queue.deadItems()).map((d) => [d.item.id, d.error]))
  assert.deepEqual(dead, { mail: 'smtp down', photo: 'bad photo' })
})

test('an unknown type and an untyped item fail with the core error, and end in the dead letters', async (t) => {
  const { connection } = await openQueue(t, 'routing-unknown')
  const queue = new WorkQueue(connection, uniquePrefix('routing-unknown'), { maxAttempts: 1 })
  await queue.addItem(new Item(JSON.stringify({ type: 'fax', to: '+1 555' }), 'fax'))
  await queue.addItem(new Item(JSON.stringify({ to: 'nobody' }), 'untyped'))
  await queue.addItem(new Item('not json at all', 'bytes'))
  await queue.addItem(new Item(JSON.stringify({ type: 'email', to: 'a@example.com' }), 'mail'))
  const ran = []
  const outcomes = {}
  const worker = new Worker(queue, {
    resize: () => ran.push('resize'),
    email: (item) => ran.push(item.id),
  }, {
    cleanEvery: null,
    after: (item, outcome) => (outcomes[item.id] = outcome),
  })
  start(t, worker)
  await waitFor(async () => (await queue.deadLen()) === 3, 10_000, 'three dead letters')
  await waitFor(() => worker.counters().completed === 1, 10_000, 'the email completed')
  assert.deepEqual(ran, ['mail'])

  const untyped =
    'item has no type (its data is not a JSON object with a string field "type"); ' +
    'this worker handles: email, resize'
  const expected = {
    fax: 'unknown item type "fax"; this worker handles: email, resize',
    untyped,
    bytes: untyped,
  }
  const dead = await queue.deadItems()
  assert.deepEqual(Object.fromEntries(dead.map((d) => [d.item.id, d.error])), expected)
  for (const { item } of dead) assert.equal(item.attempts, 1)
  await waitFor(() => Object.keys(outcomes).length === 4, 10_000, 'four after hooks')
  for (const [id, error] of Object.entries(expected)) {
    assert.deepEqual(outcomes[id], { outcome: 'failed', error })
  }
  assert.equal(worker.counters().failed, 3)
})

test('an unknown type is retried, so a worker with that handler can run it later', async (t) => {
  const { connection } = await openQueue(t, 'routing-later')
  const queue = new WorkQueue(connection, uniquePrefix('routing-later'), {
    maxAttempts: 5,
    backoffBase: 0.05,
    backoffMax: 0.05,
  })
  await queue.addItem(new Item(JSON.stringify({ type: 'fax' }), 'fax'))
  const old = new Worker(queue, { email: () => {} }, { cleanEvery: null })
  const oldRun = old.run()
  await waitFor(() => old.counters().retried >= 1, 10_000, 'a retry')
  old.stop()
  await oldRun
  assert.equal(old.counters().completed, 0)

  let faxed = 0
  const newer = new Worker(queue, { email: () => {}, fax: () => faxed++ }, { cleanEvery: null })
  start(t, newer)
  await waitFor(() => newer.counters().completed === 1, 10_000, 'the fax completed')
  assert.equal(faxed, 1)
  assert.equal(await queue.deadLen(), 0)
})

test('a handler object is checked at construction', async (t) => {
  const { queue } = await openQueue(t, 'routing-checks')
  const einval = (message) => ({ code: 'EINVAL', message })
  // No item types, or an empty one: the core refuses them (Worker::for_host).
  const empty = /^a worker with a handler per item type needs at least one item type$/
  assert.throws(() => new Worker(queue, {}), einval(empty))
  // Only own enumerable string keys count, as with Object.keys.
  assert.throws(
    () => new Worker(queue, Object.create({ email: () => {} })),
    einval(empty),
  )
  assert.throws(
    () => new Worker(queue, { [Symbol('email')]: () => {} }),
    einval(empty),
  )
  for (const value of [42, 'sendEmail', null, undefined, {}, [() => {}], Promise.resolve()]) {
    assert.throws(
      () => new Worker(queue, { email: () => {}, fax: value }),
      einval(/^the handler for item type "fax" must be a function$/),
      `a route to ${String(value)}`,
    )
  }
  for (const handler of ['not a function', 42, null, undefined, [() => {}], true]) {
    assert.throws(
      () => new Worker(queue, handler),
      einval(/^the handler must be a function, or an object with a function per item type \(e\.g\. \{ email: sendEmail \}\)$/),
      `the handler ${String(handler)}`,
    )
  }
  // Routes and options are both checked.
  assert.throws(() => new Worker(queue, { email: () => {} }, { concurrency: 0 }), einval(/concurrency/))
  const async = async () => {}
  assert.throws(() => new Worker(queue, { email: async, '': async }), einval(/item type .*is empty/))
  for (const handler of [{ email: async }, { email: async, resize: () => {} }, { 7: async }]) {
    assert.ok(new Worker(queue, handler) instanceof Worker)
  }
})

test('a number key routes the type named by that number', async (t) => {
  const { queue } = await openQueue(t, 'routing-number-key')
  await queue.addItem(Item.fromJson({ type: '7' }))
  let ran = 0
  const worker = new Worker(queue, { 7: () => ran++ }, { cleanEvery: null })
  start(t, worker)
  await waitFor(() => worker.counters().completed === 1)
  assert.equal(ran, 1)
})
