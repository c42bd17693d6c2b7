// Fencing tokens (item.fence, the queue's `fencing` option) and the queue options that came with
// them (cleanGrace, waitReplicas, waitTimeout): arguments in, errors out (#13, #16). What fencing
// does is the core's (and the conformance cases').
import assert from 'node:assert/strict'
import { setTimeout as sleep } from 'node:timers/promises'
import { test } from 'node:test'

import { Item, WorkQueue } from 'leaseq'

import { assertCode, leaseOne, openQueue, queueWith, uniquePrefix } from './helpers.mjs'

test('the new queue options are accepted, each optional, undefined or null', async (t) => {
  const { connection } = await openQueue(t, 'fencing-options')
  const name = uniquePrefix('fencing-options')
  for (const options of [
    { fencing: true },
    { fencing: false, cleanGrace: 0, waitReplicas: 0, waitTimeout: 0 },
    { cleanGrace: 2.5, waitReplicas: 2, waitTimeout: 0.25 },
    { cleanGrace: 365 * 24 * 3600 },
    { fencing: undefined, cleanGrace: null, waitReplicas: undefined, waitTimeout: null },
  ]) {
    assert.equal(new WorkQueue(connection, name, options).name, name)
  }
})

test('the new queue options out of range are EINVAL', async (t) => {
  const { connection } = await openQueue(t, 'fencing-bad-options')
  const name = uniquePrefix('fencing-bad-options')
  for (const [options, message] of [
    [{ cleanGrace: -1 }, /cleanGrace must be a finite, non-negative number/],
    [{ cleanGrace: NaN }, /cleanGrace/],
    [{ cleanGrace: Infinity }, /cleanGrace/],
    [{ cleanGrace: 366 * 24 * 3600 }, /clean_grace .* longer than the maximum/],
    [{ waitReplicas: -1 }, /waitReplicas must be a whole number/],
    [{ waitReplicas: 1.5 }, /waitReplicas must be a whole number/],
    [{ waitReplicas: 2 ** 32 }, /waitReplicas must be a whole number/],
    [{ waitTimeout: -0.5 }, /waitTimeout must be a finite, non-negative number/],
    [{ waitTimeout: 1e300 }, /waitTimeout .* too large/],
    [{ waitReplicas: 1, waitTimeout: 0 }, /wait_timeout must be positive/],
  ]) {
    assert.throws(() => new WorkQueue(connection, name, options), { code: 'EINVAL', message })
  }
  // A value of the wrong type names the option, as every argument does.
  assert.throws(() => new WorkQueue(connection, name, { fencing: 'yes' }), /fencing/)
  assert.throws(() => new WorkQueue(connection, name, { waitReplicas: '1' }), /waitReplicas/)
})

test('waitReplicas without replicas: the add is written, then ETIMEOUT', async (t) => {
  const { queue } = await queueWith(t, 'wait-replicas', { waitReplicas: 1, waitTimeout: 0.1 })
  const started = Date.now()
  await assertCode(assert, queue.addItem(new Item('x', 'a')), 'ETIMEOUT', /replicas/)
  assert.ok(Date.now() - started < 2000)
  assert.equal(await queue.queueLen(), 1, 'written on the master')
})

test('item.fence is 0 on a new item and grows with each lease', async (t) => {
  const { queue } = await queueWith(t, 'fences')
  assert.equal(new Item('x').fence, 0)
  await queue.addItems([new Item('1', 'a'), new Item('2', 'b')])
  const first = await leaseOne(queue)
  const second = await leaseOne(queue)
  assert.ok(Number.isSafeInteger(first.fence) && first.fence > 0, `fence ${first.fence}`)
  assert.ok(second.fence > first.fence, 'a later delivery of another item has a larger fence')
  assert.throws(() => {
    first.fence = 1
  }, TypeError)
})

/** Item "a" leased, its lease expired and reclaimed, and leased again: both deliveries. */
async function superseded(queue) {
  await queue.addItem(new Item('x', 'a'))
  const first = await leaseOne(queue, 0.05)
  await sleep(100)
  assert.equal((await queue.lightClean()).requeued, 1)
  const second = await leaseOne(queue)
  assert.equal(second.id, 'a')
  assert.ok(second.fence > first.fence)
  return [first, second]
}

test('with fencing, a superseded delivery is ELEASE_LOST and changes nothing', async (t) => {
  const { queue } = await queueWith(t, 'fencing', { fencing: true })
  const [first, second] = await superseded(queue)
  await assertCode(assert, queue.renew(first, 30), 'ELEASE_LOST')
  await assertCode(assert, queue.fail(first, 'late'), 'ELEASE_LOST')
  await assertCode(assert, queue.release(first), 'ELEASE_LOST')
  await assertCode(assert, queue.complete(first), 'ELEASE_LOST')
  assert.equal(await queue.processing(), 1, 'nothing changed')
  // An item made from the id alone has fence 0, which is not checked.
  assert.equal(await queue.renew(new Item('', 'a'), 30), true)
  assert.equal(await queue.complete(second), true)
})

test('without fencing, a superseded delivery still completes', async (t) => {
  const { queue } = await queueWith(t, 'no-fencing')
  const [first] = await superseded(queue)
  assert.equal(await queue.complete(first), true)
})
