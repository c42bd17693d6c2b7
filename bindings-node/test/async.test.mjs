// Promises: many at once, blocking leases woken from the same process, timeouts, and a blocking
// lease that does not hold up other calls on the same connection.
import assert from 'node:assert/strict'
import { setTimeout as sleep } from 'node:timers/promises'
import { test } from 'node:test'

import { Item, WorkQueue } from 'leaseq'

import { openQueue, uniquePrefix } from './helpers.mjs'

test('many concurrent workers complete each item exactly once', async (t) => {
  const { queue } = await openQueue(t, 'concurrent')
  const total = 600
  const added = await Promise.all(
    Array.from({ length: total }, (_, index) => queue.addItem(new Item(`job ${index}`, `id-${index}`))),
  )
  assert.ok(added.every((ok) => ok === true))
  assert.equal(await queue.queueLen(), total)

  const completions = new Map()
  const worker = async () => {
    for (;;) {
      const item = await queue.lease(30, { block: false })
      if (item === null) return
      assert.equal(item.data.toString(), `job ${item.id.slice(3)}`)
      if (await queue.complete(item)) completions.set(item.id, (completions.get(item.id) ?? 0) + 1)
    }
  }
  await Promise.all(Array.from({ length: 32 }, worker))

  assert.equal(completions.size, total)
  assert.ok([...completions.values()].every((count) => count === 1))
  assert.equal(await queue.queueLen(), 0)
  assert.equal(await queue.processing(), 0)
})

test('many blocking leases waiting at once each get one item', async (t) => {
  const { queue } = await openQueue(t, 'many-blocking')
  const waiters = Array.from({ length: 20 }, () => queue.lease(30, { timeout: 10 }))
  await sleep(100)
  await queue.addItems(Array.from({ length: 20 }, (_, index) => new Item(`${index}`)))
  const items = await Promise.all(waiters)
  assert.equal(new Set(items.map((item) => item.id)).size, 20)
  const completed = await Promise.all(items.map((item) => queue.complete(item)))
  assert.ok(completed.every((ok) => ok === true))
})

test('a blocking lease is woken by an add from the same process', async (t) => {
  const { queue } = await openQueue(t, 'wake')
  const started = performance.now()
  const lease = queue.lease(30, { timeout: 20 })
  await sleep(200)
  await queue.addItem(new Item('wake up', 'waker'))
  const item = await lease
  const elapsed = performance.now() - started
  assert.equal(item.id, 'waker')
  assert.ok(elapsed >= 190 && elapsed < 5000, `woke after ${elapsed} ms`)
})

test('a blocking lease with a 0.5 s timeout resolves to null after about 0.5 s', async (t) => {
  const { queue } = await openQueue(t, 'timeout')
  const started = performance.now()
  assert.equal(await queue.lease(30, { timeout: 0.5 }), null)
  const elapsed = performance.now() - started
  assert.ok(elapsed >= 450 && elapsed < 1500, `returned after ${elapsed} ms`)
})

test('a blocking lease in progress does not hold up other calls on the same connection', async (t) => {
  const { connection, queue } = await openQueue(t, 'not-stalled')
  const other = new WorkQueue(connection, uniquePrefix('not-stalled-other'))
  const waiting = queue.lease(30, { timeout: 10 })
  await sleep(50)

  const started = performance.now()
  for (let round = 0; round < 20; round++) {
    await other.addItem(new Item(`${round}`))
    const item = await other.lease(30, { block: false })
    assert.equal(await other.complete(item), true)
  }
  const elapsed = performance.now() - started
  assert.ok(elapsed < 2000, `60 calls took ${elapsed} ms beside a blocking lease`)

  // the blocking lease was waiting all along, and still gets its item
  let settled = false
  waiting.then(() => (settled = true))
  await sleep(10)
  assert.equal(settled, false)
  await queue.addItem(new Item('finally', 'finally'))
  assert.equal((await waiting).id, 'finally')
})

test('the event loop runs while Redis calls are in flight', async (t) => {
  const { queue } = await openQueue(t, 'event-loop')
  let ticks = 0
  const timer = setInterval(() => ticks++, 10)
  try {
    await queue.lease(30, { timeout: 0.3 })
  } finally {
    clearInterval(timer)
  }
  assert.ok(ticks >= 10, `only ${ticks} timer ticks during a 0.3 s lease`)
})
