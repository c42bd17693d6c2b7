// The job lifecycle through the binding: queue options, attempts, priorities and delays, fail and
// release, dead letters, pause and resume. Every method once, its arguments in and results out,
// and the errors it maps; the behaviour itself is the core's (and the conformance cases').
import assert from 'node:assert/strict'
import { setTimeout as sleep } from 'node:timers/promises'
import { test } from 'node:test'

import { Item, MAX_PRIORITY, WorkQueue } from 'leaseq'

import { assertCode, leaseOne, openQueue, queueWith, uniquePrefix } from './helpers.mjs'

test('queue options are accepted, each optional, undefined or null', async (t) => {
  const { connection } = await openQueue(t, 'options')
  const name = uniquePrefix('options')
  for (const options of [
    undefined,
    null,
    {},
    { maxAttempts: 3 },
    { maxAttempts: 1, backoffBase: 0.01, backoffMax: 0.01, uniqueWindow: 60 },
    { backoffBase: undefined, backoffMax: undefined },
  ]) {
    assert.equal(new WorkQueue(connection, name, options).name, name)
  }
})

test('queue options out of range are EINVAL', async (t) => {
  const { connection } = await openQueue(t, 'bad-options')
  const name = uniquePrefix('bad-options')
  for (const [options, message] of [
    [{ maxAttempts: 0 }, /max_attempts must be at least 1/],
    [{ maxAttempts: -1 }, /maxAttempts must be a whole number/],
    [{ maxAttempts: 1.5 }, /maxAttempts must be a whole number/],
    [{ maxAttempts: 2 ** 32 }, /maxAttempts must be a whole number/],
    [{ maxAttempts: NaN }, /maxAttempts/],
    [{ backoffBase: 10, backoffMax: 1 }, /backoff_max must not be shorter/],
    [{ backoffBase: -1 }, /backoffBase must be a finite, non-negative number/],
    [{ backoffMax: Infinity }, /backoffMax/],
    [{ uniqueWindow: 366 * 24 * 3600 }, /unique_window .* longer than the maximum/],
  ]) {
    assert.throws(() => new WorkQueue(connection, name, options), { code: 'EINVAL', message })
  }
})

test('item.attempts is 0 on a new item and counts each lease', async (t) => {
  const { queue } = await queueWith(t, 'attempts', { backoffBase: 0.01, backoffMax: 0.01 })
  const added = new Item('work', 'a')
  assert.equal(added.attempts, 0)
  await queue.addItem(added)
  const first = await leaseOne(queue)
  assert.equal(first.attempts, 1)
  assert.equal((await queue.fail(first, 'try again', 0)).outcome, 'retry')
  const second = await leaseOne(queue)
  assert.equal(second.attempts, 2)
  assert.equal(await queue.complete(second), true)
})

test('MAX_PRIORITY is the core\'s highest level', () => {
  assert.equal(MAX_PRIORITY, 9)
})

test('addItemWith a priority: strict levels, FIFO within one, counted by prioritizedLen', async (t) => {
  const { queue } = await openQueue(t, 'priority')
  assert.equal(await queue.addItem(new Item('x', 'default')), true)
  assert.equal(await queue.addItemWith(new Item('x', 'high-1'), { priority: MAX_PRIORITY }), true)
  assert.equal(await queue.addItemWith(new Item('x', 'mid'), { priority: 5 }), true)
  assert.equal(await queue.addItemWith(new Item('x', 'high-2'), { priority: 9 }), true)
  assert.equal(await queue.addItemWith(new Item('x', 'zero'), { priority: 0 }), true)
  assert.equal(await queue.addItemWith(new Item('again', 'mid'), { priority: 1 }), false)
  assert.equal(await queue.prioritizedLen(), 3)
  assert.equal(await queue.queueLen(), 2)
  const order = []
  for (let n = 0; n < 5; n++) order.push((await leaseOne(queue)).id)
  assert.deepEqual(order, ['high-1', 'high-2', 'mid', 'default', 'zero'])
  assert.equal(await queue.prioritizedLen(), 0)
})

test('addItemWith options may be omitted: a plain add at the default level', async (t) => {
  const { queue } = await openQueue(t, 'with-nothing')
  assert.equal(await queue.addItemWith(new Item('x', 'a')), true)
  assert.equal(await queue.addItemWith(new Item('x', 'b'), {}), true)
  assert.equal(await queue.addItemWith(new Item('x', 'c'), null), true)
  assert.equal(await queue.queueLen(), 3)
})

test('addItemWith a delay: not leasable until due, counted by delayedLen', async (t) => {
  const { queue } = await openQueue(t, 'delay')
  assert.equal(await queue.addItemWith(new Item('later', 'd'), { delay: 0.2 }), true)
  assert.equal(await queue.delayedLen(), 1)
  assert.equal(await queue.queueLen(), 0)
  assert.equal(await queue.lease(30, { block: false }), null)
  const started = performance.now()
  const item = await queue.lease(30, { timeout: 5 }) // woken when it falls due
  const waited = performance.now() - started
  assert.equal(item.id, 'd')
  assert.ok(waited > 100 && waited < 2000, `leased after ${waited} ms`)
  assert.equal(await queue.delayedLen(), 0)
})

test('addItemWith at: a Date or epoch milliseconds, past ones leasable at once', async (t) => {
  const { queue } = await openQueue(t, 'at')
  assert.equal(await queue.addItemWith(new Item('x', 'past-date'), { at: new Date(1_000_000_000_000) }), true)
  assert.equal(await queue.addItemWith(new Item('x', 'past-ms'), { at: 1_000_000_000_000 }), true)
  assert.equal(await queue.addItemWith(new Item('x', 'future-date'), { at: new Date(Date.now() + 3_600_000) }), true)
  assert.equal(await queue.addItemWith(new Item('x', 'future-ms'), { at: Date.now() + 3_600_000, priority: 3 }), true)
  assert.equal(await queue.queueLen(), 2)
  assert.equal(await queue.delayedLen(), 2)
  assert.equal((await leaseOne(queue)).id, 'past-date')
  assert.equal((await leaseOne(queue)).id, 'past-ms')
  assert.equal(await queue.lease(30, { block: false }), null)
})

test('addItemWith refuses bad priorities, delays and times with EINVAL, adding nothing', async (t) => {
  const { queue } = await openQueue(t, 'bad-add-with')
  const item = new Item('x', 'refused')
  for (const [options, message] of [
    [{ priority: 10 }, /priority 10 is above the maximum of 9/],
    [{ priority: 256 }, /priority must be a whole number/],
    [{ priority: -1 }, /priority must be a whole number/],
    [{ priority: 1.5 }, /priority must be a whole number/],
    [{ priority: NaN }, /priority/],
    [{ delay: 1, at: Date.now() + 1000 }, /a delay or a time, not both/],
    [{ delay: -1 }, /delay must be a finite, non-negative number/],
    [{ delay: Infinity }, /delay/],
    [{ at: new Date(NaN) }, /at must be a valid Date/],
    [{ at: -1000 }, /before 1970/],
    [{ at: Infinity }, /at must be a valid Date/],
  ]) {
    await assertCode(assert, queue.addItemWith(item, options), 'EINVAL', message)
  }
  assert.equal(await queue.queueLen(), 0)
  assert.equal(await queue.prioritizedLen(), 0)
  assert.equal(await queue.delayedLen(), 0)
})

test('fail schedules a retry: outcome retry with retryAt, the item back when due', async (t) => {
  const { queue } = await openQueue(t, 'fail-retry')
  await queue.addItem(new Item('work', 'a'))
  const item = await leaseOne(queue)
  const before = Date.now()
  const result = await queue.fail(item, 'boom', 0.2)
  assert.deepEqual(Object.keys(result).sort(), ['outcome', 'retryAt'])
  assert.equal(result.outcome, 'retry')
  assert.ok(result.retryAt instanceof Date)
  const due = result.retryAt.getTime() - before
  assert.ok(due > 100 && due < 1500, `due in ${due} ms`)
  assert.equal(await queue.processing(), 0)
  assert.equal(await queue.delayedLen(), 1)
  assert.equal(await queue.lease(30, { block: false }), null)
  const again = await queue.lease(30, { timeout: 5 })
  assert.equal(again.id, 'a')
  assert.equal(again.attempts, 2)
})

test('fail without retryAfter backs off as the queue says', async (t) => {
  const { queue } = await queueWith(t, 'fail-backoff', { backoffBase: 0.05, backoffMax: 0.05 })
  await queue.addItem(new Item('work', 'a'))
  const before = Date.now()
  const result = await queue.fail(await leaseOne(queue), 'boom')
  assert.equal(result.outcome, 'retry')
  const due = result.retryAt.getTime() - before
  assert.ok(due <= 1000, `a 50 ms backoff is due in ${due} ms`)
})

test('fail on the last attempt buries the item: outcome dead, in the dead letters', async (t) => {
  const { queue } = await queueWith(t, 'fail-dead', { maxAttempts: 1 })
  await queue.addItem(new Item('poison', 'p'))
  const result = await queue.fail(await leaseOne(queue), 'it exploded')
  assert.deepEqual(result, { outcome: 'dead' })
  assert.equal(await queue.deadLen(), 1)
  assert.equal(await queue.processing(), 0)
  assert.equal(await queue.lease(30, { block: false }), null)
})

test('fail after complete is gone; through another session it is ELEASE_LOST', async (t) => {
  const { connection, queue } = await openQueue(t, 'fail-gone')
  await queue.addItems([new Item('x', 'done'), new Item('y', 'held')])
  const done = await leaseOne(queue)
  assert.equal(await queue.complete(done), true)
  assert.deepEqual(await queue.fail(done, 'late'), { outcome: 'gone' })

  const held = await leaseOne(queue)
  const other = new WorkQueue(connection, queue.name)
  await assertCode(assert, other.fail(held, 'not mine'), 'ELEASE_LOST', /no longer held/)
  assert.equal(await queue.processing(), 1, 'the refused fail changed nothing')
})

test('fail after the lease expired and the item was reclaimed is ELEASE_LOST', async (t) => {
  const { queue } = await openQueue(t, 'fail-expired')
  await queue.addItem(new Item('x', 'a'))
  const item = await leaseOne(queue, 0.05)
  await sleep(120)
  assert.deepEqual(await queue.lightClean(), { requeued: 1, dropped: 0, dead: 0 })
  await assertCode(assert, queue.fail(item, 'too late'), 'ELEASE_LOST')
})

test('fail refuses a bad retryAfter with EINVAL', async (t) => {
  const { queue } = await openQueue(t, 'fail-bad')
  await queue.addItem(new Item('x', 'a'))
  const item = await leaseOne(queue)
  for (const secs of [-1, NaN, Infinity]) {
    await assertCode(assert, queue.fail(item, 'e', secs), 'EINVAL', /retryAfter/)
  }
  assert.equal(await queue.processing(), 1)
})

test('release gives the item back first in line, without counting the attempt', async (t) => {
  const { connection, queue } = await openQueue(t, 'release')
  await queue.addItems([new Item('x', 'a'), new Item('y', 'b')])
  const item = await leaseOne(queue)
  assert.equal(item.id, 'a')
  assert.equal(await new WorkQueue(connection, queue.name).release(item), false)
  assert.equal(await queue.release(item), true)
  assert.equal(await queue.release(item), false)
  assert.equal(await queue.queueLen(), 2)
  const again = await leaseOne(queue)
  assert.equal(again.id, 'a')
  assert.equal(again.attempts, 1)
})

test('deadItems pages dead letters oldest first, with item, error and diedAt', async (t) => {
  const { queue } = await queueWith(t, 'dead-items', { maxAttempts: 1 })
  assert.deepEqual(await queue.deadItems(), [])
  await queue.addItems([new Item('one', 'a'), new Item(Buffer.from([0, 255]), 'b')])
  const before = Date.now()
  await queue.fail(await leaseOne(queue), 'first error')
  await sleep(5)
  await queue.fail(await leaseOne(queue), 'second error')
  assert.equal(await queue.deadLen(), 2)

  const page = await queue.deadItems()
  assert.equal(page.length, 2)
  const [first, second] = page
  assert.deepEqual(Object.keys(first).sort(), ['diedAt', 'error', 'item'])
  assert.ok(first.item instanceof Item)
  assert.equal(first.item.id, 'a')
  assert.equal(first.item.data.toString(), 'one')
  assert.equal(first.item.attempts, 1)
  assert.equal(first.error, 'first error')
  assert.ok(first.diedAt instanceof Date)
  assert.ok(Math.abs(first.diedAt.getTime() - before) < 5000, `died at ${first.diedAt.toISOString()}`)
  assert.ok(second.diedAt >= first.diedAt)
  assert.deepEqual(second.item.data, Buffer.from([0, 255]))
  assert.equal(second.error, 'second error')

  assert.deepEqual((await queue.deadItems(1)).map((dead) => dead.item.id), ['b'])
  assert.deepEqual((await queue.deadItems(0, 1)).map((dead) => dead.item.id), ['a'])
  assert.deepEqual(await queue.deadItems(2, 10), [])
  assert.equal((await queue.deadItems(undefined, 1000)).length, 2)
})

test('deadItems refuses a count of 0 or over 1000, and offsets or counts that are not whole', async (t) => {
  const { queue } = await openQueue(t, 'dead-items-bad')
  for (const [offset, count, message] of [
    [0, 0, /count must be between 1 and 1000/],
    [0, 1001, /count must be between 1 and 1000/],
    [-1, 10, /offset must be a whole number/],
    [0.5, 10, /offset must be a whole number/],
    [0, 2.5, /count must be a whole number/],
    [NaN, 10, /offset/],
  ]) {
    await assertCode(assert, queue.deadItems(offset, count), 'EINVAL', message)
  }
})

test('requeueDead and purgeDead act on the ids given and count only dead ones', async (t) => {
  const { queue } = await queueWith(t, 'dead-ids', { maxAttempts: 1 })
  await queue.addItems([new Item('x', 'a'), new Item('y', 'b'), new Item('z', 'live')])
  await queue.fail(await leaseOne(queue), 'e')
  await queue.fail(await leaseOne(queue), 'e')
  assert.equal(await queue.requeueDead([]), 0)
  assert.equal(await queue.requeueDead(['a', 'nope', 'live']), 1)
  assert.equal(await queue.deadLen(), 1)
  const requeued = await leaseOne(queue) // 'live' was queued before 'a' came back
  assert.equal(requeued.id, 'live')
  const back = await leaseOne(queue)
  assert.equal(back.id, 'a')
  assert.equal(back.attempts, 1, 'attempts start again')

  assert.equal(await queue.purgeDead(['b', 'nope']), 1)
  assert.equal(await queue.purgeDead(['b']), 0)
  assert.equal(await queue.deadLen(), 0)
})

test('requeueAllDead and purgeAllDead work in bulk', async (t) => {
  const { queue } = await queueWith(t, 'dead-all', { maxAttempts: 1 })
  const bury = async () => {
    await queue.addItems([new Item('x', 'a'), new Item('y', 'b')])
    await queue.fail(await leaseOne(queue), 'e')
    await queue.fail(await leaseOne(queue), 'e')
    assert.equal(await queue.deadLen(), 2)
  }
  await bury()
  assert.equal(await queue.requeueAllDead(), 2)
  assert.equal(await queue.deadLen(), 0)
  assert.equal(await queue.queueLen(), 2)
  await queue.fail(await leaseOne(queue), 'e')
  await queue.fail(await leaseOne(queue), 'e')
  assert.equal(await queue.purgeAllDead(), 2)
  assert.equal(await queue.purgeAllDead(), 0)
  assert.equal(await queue.requeueAllDead(), 0)
  await bury() // purged ids are gone for good: they can be added again
})

test('an expired lease on the last attempt is buried: lightClean reports it as dead', async (t) => {
  const { queue } = await queueWith(t, 'clean-dead', { maxAttempts: 1 })
  await queue.addItem(new Item('x', 'a'))
  await leaseOne(queue, 0.05)
  await sleep(120)
  assert.deepEqual(await queue.lightClean(), { requeued: 0, dropped: 0, dead: 1 })
  const [dead] = await queue.deadItems()
  assert.equal(dead.error, 'lease expired')
  assert.deepEqual(await queue.deepClean(), { requeued: 0, dropped: 0, dead: 0 })
})

test('pause stops leases but not adds; resume says whether it was paused', async (t) => {
  const { queue } = await openQueue(t, 'pause')
  assert.equal(await queue.isPaused(), false)
  assert.equal(await queue.resume(), false)
  assert.equal(await queue.pause(), undefined)
  assert.equal(await queue.isPaused(), true)
  assert.equal(await queue.addItem(new Item('x', 'a')), true)
  assert.equal(await queue.lease(30, { block: false }), null)
  assert.equal(await queue.lease(30, { timeout: 0.1 }), null)
  assert.equal(await queue.resume(), true)
  assert.equal(await queue.isPaused(), false)
  assert.equal((await leaseOne(queue)).id, 'a')
})

test('resume wakes a blocking lease on a paused queue within milliseconds', async (t) => {
  const { queue } = await openQueue(t, 'resume-wakes')
  await queue.pause()
  await queue.addItem(new Item('x', 'a'))
  const lease = queue.lease(30, { timeout: 10 })
  await sleep(200)
  const resumedAt = performance.now()
  await queue.resume()
  const item = await lease
  const woke = performance.now() - resumedAt
  assert.equal(item.id, 'a')
  assert.ok(woke < 1000, `woke ${woke} ms after resume`)
})

test('a uniqueness window refuses an id completed within it', async (t) => {
  const { queue } = await queueWith(t, 'unique', { uniqueWindow: 60 })
  await queue.addItem(new Item('x', 'a'))
  assert.equal(await queue.complete(await leaseOne(queue)), true)
  assert.equal(await queue.addItem(new Item('again', 'a')), false)
  assert.equal(await queue.addItemWith(new Item('again', 'a'), { priority: 2 }), false)
  assert.equal(await queue.addItems([new Item('again', 'a'), new Item('y', 'b')]), 1)
  const { queue: forgetful } = await queueWith(t, 'not-unique', {})
  await forgetful.addItem(new Item('x', 'a'))
  assert.equal(await forgetful.complete(await leaseOne(forgetful)), true)
  assert.equal(await forgetful.addItem(new Item('again', 'a')), true)
})
