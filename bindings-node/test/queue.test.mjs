// Every WorkQueue operation once, through the binding: arguments in, results out.
import assert from 'node:assert/strict'
import { setTimeout as sleep } from 'node:timers/promises'
import { test } from 'node:test'

import { Connection, Item, MAX_BATCH, WorkQueue } from 'leaseq'

import { assertCode, openQueue, redisUrl, uniquePrefix } from './helpers.mjs'

test('Connection.open gives a connection that close() closes', async () => {
  const connection = await Connection.open(redisUrl)
  assert.ok(connection instanceof Connection)
  assert.equal(connection.isClosed(), false)
  connection.close()
  assert.equal(connection.isClosed(), true)
  connection.close() // twice is fine
})

test('a WorkQueue has its name and a session of its own', async (t) => {
  const { connection } = await openQueue(t, 'names')
  const name = uniquePrefix('names')
  const first = new WorkQueue(connection, name)
  const second = new WorkQueue(connection, name)
  assert.equal(first.name, name)
  assert.match(first.session, /^[0-9a-f]{32}$/)
  assert.notEqual(first.session, second.session)
})

test('addItem adds once, then returns false for the same id', async (t) => {
  const { queue } = await openQueue(t, 'add')
  const item = new Item('payload', 'id-1')
  assert.equal(await queue.addItem(item), true)
  assert.equal(await queue.addItem(item), false)
  assert.equal(await queue.queueLen(), 1)
})

test('addUniqueItem adds and resolves to undefined', async (t) => {
  const { queue } = await openQueue(t, 'add-unique')
  assert.equal(await queue.addUniqueItem(new Item('payload')), undefined)
  assert.equal(await queue.queueLen(), 1)
})

test('addItems adds a batch and counts only new ids', async (t) => {
  const { queue } = await openQueue(t, 'add-items')
  assert.equal(await queue.addItems([]), 0)
  const items = [new Item('a', 'a'), new Item('b', 'b'), new Item(Buffer.from([0, 255]), 'c')]
  assert.equal(await queue.addItems(items), 3)
  assert.equal(await queue.addItems([new Item('a', 'a'), new Item('d', 'd')]), 1)
  assert.equal(await queue.queueLen(), 4)
})

test('lease returns the item with its id and bytes, and complete finishes it once', async (t) => {
  const { queue } = await openQueue(t, 'lease')
  const data = Buffer.from([0, 1, 2, 254, 255])
  await queue.addItem(new Item(data, 'binary'))
  const item = await queue.lease(30, { block: false })
  assert.ok(item instanceof Item)
  assert.equal(item.id, 'binary')
  assert.ok(Buffer.isBuffer(item.data))
  assert.deepEqual(item.data, data)
  assert.equal(await queue.queueLen(), 0)
  assert.equal(await queue.processing(), 1)
  assert.equal(await queue.complete(item), true)
  assert.equal(await queue.complete(item), false)
  assert.equal(await queue.processing(), 0)
})

test('lease on an empty queue: block false and a timeout both give null', async (t) => {
  const { queue } = await openQueue(t, 'lease-empty')
  assert.equal(await queue.lease(30, { block: false }), null)
  assert.equal(await queue.lease(30, { timeout: 0 }), null)
  assert.equal(await queue.lease(30, { block: true, timeout: 0.01 }), null)
})

test('lease options may be omitted, undefined or null', async (t) => {
  const { queue } = await openQueue(t, 'lease-options')
  await queue.addItems([new Item('1'), new Item('2'), new Item('3')])
  assert.ok(await queue.lease(30))
  assert.ok(await queue.lease(30, undefined))
  assert.ok(await queue.lease(30, { block: undefined, timeout: undefined }))
})

test('leaseMany leases a batch in lease order; an empty queue gives []', async (t) => {
  const { queue } = await openQueue(t, 'lease-many')
  await queue.addItems([new Item('a', '1'), new Item('b', '2'), new Item('c', '3'), new Item('d', '4')])
  const items = await queue.leaseMany(30, 3, { block: false })
  assert.deepEqual(items.map((item) => item.id), ['1', '2', '3'])
  assert.ok(items.every((item) => item instanceof Item && item.attempts === 1))
  assert.deepEqual(items.map((item) => item.data.toString()), ['a', 'b', 'c'])
  assert.equal(await queue.processing(), 3)
  assert.deepEqual((await queue.leaseMany(30, 3)).map((item) => item.id), ['4'])
  assert.deepEqual(await queue.leaseMany(30, 3, { block: false }), [])
  assert.deepEqual(await queue.leaseMany(30, 3, { timeout: 0.01 }), [])
})

test('leaseMany: a count of 0, over MAX_BATCH or not a number is EINVAL, as lease\'s arguments', async (t) => {
  const { queue } = await openQueue(t, 'lease-many-invalid')
  assert.equal(MAX_BATCH, 1000)
  await assertCode(assert, queue.leaseMany(30, 0), 'EINVAL', /batch is 1 to 1000 items, not 0/)
  await assertCode(assert, queue.leaseMany(30, MAX_BATCH + 1), 'EINVAL', /not 1001/)
  await assertCode(assert, queue.leaseMany(30, 1.5), 'EINVAL', /count/)
  await assertCode(assert, queue.leaseMany(30, '3'), 'EINVAL', /^count must be a number/)
  await assertCode(assert, queue.leaseMany(0, 3), 'EINVAL')
  await assertCode(assert, queue.leaseMany(30, 3, { block: 'no' }), 'EINVAL', /options\.block/)
})

test('completeMany completes a batch once: [true, true] then [false, false]', async (t) => {
  const { queue } = await openQueue(t, 'complete-many')
  await queue.addItems([new Item('a', '1'), new Item('b', '2')])
  const items = await queue.leaseMany(30, 2, { block: false })
  assert.deepEqual(await queue.completeMany(items), [true, true])
  assert.deepEqual(await queue.completeMany(items), [false, false])
  assert.equal(await queue.processing(), 0)
  await assertCode(assert, queue.completeMany([]), 'EINVAL', /batch is 1 to 1000 items, not 0/)
  await assertCode(assert, queue.completeMany([items[0], 'x']), 'EINVAL', /^items\[1\] must be an instance of Item/)
})

test('completeAndLease completes the item and leases the next ones', async (t) => {
  const { queue } = await openQueue(t, 'complete-and-lease')
  await queue.addItems([new Item('a', '1'), new Item('b', '2'), new Item('c', '3')])
  const first = await queue.lease(30, { block: false })
  const next = await queue.completeAndLease(first, 30, 5)
  assert.equal(next.completed, true)
  assert.deepEqual(next.leased.map((item) => item.id), ['2', '3'])
  const again = await queue.completeAndLease(first, 30, 1)
  assert.deepEqual(again, { completed: false, leased: [] })
  await assertCode(assert, queue.completeAndLease(first, 30, 0), 'EINVAL', /batch is 1 to 1000/)
})

test('renew extends only this session\'s live lease', async (t) => {
  const { connection, queue } = await openQueue(t, 'renew')
  await queue.addItem(new Item('work'))
  const item = await queue.lease(1, { block: false })
  assert.equal(await queue.renew(item, 30), true)
  const other = new WorkQueue(connection, queue.name)
  assert.equal(await other.renew(item, 30), false)
  await queue.complete(item)
  assert.equal(await queue.renew(item, 30), false)
})

test('lightClean requeues an item whose lease expired', async (t) => {
  const { queue } = await openQueue(t, 'light-clean')
  await queue.addItem(new Item('work'))
  await queue.lease(0.05, { block: false })
  await sleep(150)
  assert.deepEqual(await queue.lightClean(), { requeued: 1, dropped: 0, dead: 0 })
  assert.equal(await queue.queueLen(), 1)
  assert.equal(await queue.processing(), 0)
  assert.deepEqual(await queue.lightClean(), { requeued: 0, dropped: 0, dead: 0 })
})

test('deepClean reports what it did, light clean included', async (t) => {
  const { queue } = await openQueue(t, 'deep-clean')
  assert.deepEqual(await queue.deepClean(), { requeued: 0, dropped: 0, dead: 0 })
  await queue.addItems([new Item('1'), new Item('2')])
  await queue.lease(0.05, { block: false })
  await sleep(150)
  assert.deepEqual(await queue.deepClean(), { requeued: 1, dropped: 0, dead: 0 })
  assert.equal(await queue.queueLen(), 2)
})

test('queues on one connection with different names do not share items', async (t) => {
  const { connection, queue } = await openQueue(t, 'separate')
  const other = new WorkQueue(connection, uniquePrefix('separate-other'))
  await queue.addItem(new Item('mine'))
  assert.equal(await other.queueLen(), 0)
  assert.equal(await other.lease(30, { block: false }), null)
})
