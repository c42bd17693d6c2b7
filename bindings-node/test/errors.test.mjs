// Errors: every core kind has its `code`; every refusal, failure and panic surfaces as a coded
// JavaScript Error (a rejected Promise for async methods), never as a crash.
import assert from 'node:assert/strict'
import { createRequire } from 'node:module'
import { test } from 'node:test'

import { Connection, ErrorCode, Item, WorkQueue, errorKinds } from 'leaseq'

import { assertCode, openQueue, redisUrl, uniquePrefix } from './helpers.mjs'

// Test hooks exported by the native module but left out of the typings.
const hooks = createRequire(import.meta.url)('leaseq')

const BAD_LEASES = [0, -1, -0.001, NaN, Infinity, -Infinity, 366 * 24 * 3600, 1e300]

test('every core error kind has a member of ErrorCode, and no member is extra', () => {
  const kinds = errorKinds()
  assert.deepEqual(
    kinds.map((kind) => kind.kind),
    [1, 2, 3, 4, 5],
  )
  const codes = Object.values(ErrorCode)
  for (const { code } of kinds) assert.ok(codes.includes(code), `ErrorCode lacks ${code}`)
  assert.equal(codes.length, kinds.length)
  assert.deepEqual(
    kinds.map((kind) => kind.code),
    ['ECONNECTION', 'ETIMEOUT', 'EINVAL', 'ELEASE_LOST', 'EINTERNAL'],
  )
})

test('an error of each core kind rejects with its code and message', async () => {
  for (const { kind, code } of errorKinds()) {
    await assertCode(assert, hooks.__rejectWithKind(kind), code, new RegExp(code))
  }
})

test('a panic inside an async call rejects with EINTERNAL and node goes on', async () => {
  await assertCode(assert, hooks.__panicInFuture(), ErrorCode.Internal, /panicked.*test panic/)
  await assertCode(assert, hooks.__panicInFuture(), ErrorCode.Internal)
  assert.equal(new Item('still alive').data.toString(), 'still alive')
})

test('a panic inside a sync call throws EINTERNAL', () => {
  assert.throws(() => hooks.__panicInCall(), { code: ErrorCode.Internal })
})

test('an empty queue name is EINVAL', async (t) => {
  const { connection } = await openQueue(t, 'empty-name')
  assert.throws(() => new WorkQueue(connection, ''), {
    code: 'EINVAL',
    message: /must not be empty/,
  })
})

test('bad lease durations are EINVAL, for lease and renew', async (t) => {
  const { queue } = await openQueue(t, 'bad-lease')
  await queue.addItem(new Item('x', 'held'))
  const item = await queue.lease(30, { block: false })
  for (const secs of BAD_LEASES) {
    await assertCode(assert, queue.lease(secs, { block: false }), 'EINVAL', /lease duration/)
    await assertCode(assert, queue.renew(item, secs), 'EINVAL', /lease duration/)
  }
  // nothing was leased or renewed by the refused calls
  assert.equal(await queue.processing(), 1)
})

test('bad timeouts are EINVAL', async (t) => {
  const { queue } = await openQueue(t, 'bad-timeout')
  for (const timeout of [-1, NaN, Infinity, 1e300]) {
    await assertCode(assert, queue.lease(30, { timeout }), 'EINVAL', /timeout/)
  }
})

test('an empty item id is EINVAL in every operation that takes an item', async (t) => {
  const { queue } = await openQueue(t, 'empty-id')
  const blank = new Item('data', '')
  await assertCode(assert, queue.addItem(blank), 'EINVAL', /id must not be empty/)
  await assertCode(assert, queue.addUniqueItem(blank), 'EINVAL')
  await assertCode(assert, queue.addItems([new Item('ok'), blank]), 'EINVAL')
  await assertCode(assert, queue.renew(blank, 30), 'EINVAL')
  await assertCode(assert, queue.complete(blank), 'EINVAL')
  await assertCode(assert, queue.addItemWith(blank, { priority: 1 }), 'EINVAL')
  await assertCode(assert, queue.fail(blank, 'error'), 'EINVAL')
  await assertCode(assert, queue.release(blank), 'EINVAL')
  assert.equal(await queue.queueLen(), 0, 'a refused batch adds nothing')
})

test('arguments of the wrong JavaScript type throw before reaching leaseq', async (t) => {
  // napi-rs converts arguments before the call, and throws synchronously with its own codes.
  const { connection, queue } = await openQueue(t, 'wrong-types')
  const cases = [
    [() => queue.lease('30'), 'NumberExpected'],
    [() => queue.lease(30, { block: 'yes' }), 'BooleanExpected'],
    [() => queue.lease(30, { timeout: '1' }), 'NumberExpected'],
    [() => queue.addItem({ id: 'x', data: 'y' }), 'InvalidArg'],
    [() => queue.addItems('not an array'), 'ArrayExpected'],
    [() => queue.renew(new Item('x'), '30'), 'NumberExpected'],
    [() => queue.complete(undefined), 'InvalidArg'],
    [() => new Item(42), 'InvalidArg'],
    [() => new Item('x', 17), 'StringExpected'],
    [() => new WorkQueue({}, 'name'), 'InvalidArg'],
    [() => new WorkQueue(connection, 17), 'StringExpected'],
    [() => Connection.open(6379), 'StringExpected'],
    [() => new WorkQueue(connection, 'name', { maxAttempts: '3' }), 'NumberExpected'],
    [() => queue.addItemWith(new Item('x'), { priority: '1' }), 'NumberExpected'],
    [() => queue.addItemWith(new Item('x'), { at: '2030-01-01' }), 'DateExpected'],
    [() => queue.fail(new Item('x'), 42), 'StringExpected'],
    [() => queue.requeueDead('x'), 'ArrayExpected'],
  ]
  for (const [call, code] of cases) {
    assert.throws(call, (err) => {
      assert.ok(err instanceof Error)
      assert.equal(err.code, code, `${call}: ${err.message}`)
      return true
    })
  }
})

test('a class that leaseq makes cannot be made with new', () => {
  assert.throws(() => new Connection(), Error)
})

test('an unreachable server is ECONNECTION', async () => {
  await assertCode(assert, Connection.open('redis://127.0.0.1:1'), 'ECONNECTION', /refused/i)
})

test('a URL that is not a Redis URL is EINVAL', async () => {
  await assertCode(assert, Connection.open('http://example.invalid'), 'EINVAL', /Redis URL/)
  await assertCode(assert, Connection.open(''), 'EINVAL')
})

test('every operation on a closed connection is ECONNECTION', async () => {
  const connection = await Connection.open(redisUrl)
  const queue = new WorkQueue(connection, uniquePrefix('closed'))
  connection.close()
  const item = new Item('x')
  for (const call of [
    () => queue.addItem(item),
    () => queue.addUniqueItem(item),
    () => queue.addItems([item]),
    () => queue.lease(30),
    () => queue.renew(item, 30),
    () => queue.complete(item),
    () => queue.lightClean(),
    () => queue.deepClean(),
    () => queue.queueLen(),
    () => queue.processing(),
    () => queue.addItemWith(item, { priority: 1 }),
    () => queue.fail(item, 'error'),
    () => queue.release(item),
    () => queue.prioritizedLen(),
    () => queue.delayedLen(),
    () => queue.deadLen(),
    () => queue.deadItems(),
    () => queue.requeueDead(['x']),
    () => queue.purgeDead(['x']),
    () => queue.requeueAllDead(),
    () => queue.purgeAllDead(),
    () => queue.pause(),
    () => queue.resume(),
    () => queue.isPaused(),
  ]) {
    await assertCode(assert, call, 'ECONNECTION', /closed/)
  }
})

test('close() ends a blocking lease in progress with ECONNECTION, at once', async () => {
  // The core ends leases blocked on a connection when it is closed (no binding workaround).
  const connection = await Connection.open(redisUrl)
  const queue = new WorkQueue(connection, uniquePrefix('closed-while-waiting'))
  const lease = queue.lease(30)
  await new Promise((resolve) => setTimeout(resolve, 100))
  const closedAt = performance.now()
  connection.close()
  await assertCode(assert, lease, 'ECONNECTION', /closed/)
  const elapsed = performance.now() - closedAt
  assert.ok(elapsed < 1000, `the lease ended ${elapsed} ms after close()`)
})
