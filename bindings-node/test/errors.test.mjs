// Errors: every core kind has its `code`; every refusal, failure and panic surfaces as a coded
// JavaScript Error (a rejected Promise for async methods), never as a crash.
import assert from 'node:assert/strict'
import { createRequire } from 'node:module'
import { test } from 'node:test'

import { Connection, ErrorCode, Item, WorkQueue, Worker, errorKinds } from 'leaseq'

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

test('arguments of the wrong JavaScript type are EINVAL, naming the argument, in every method', async (t) => {
  // Thrown by constructors and sync methods, rejected by the methods that return a Promise,
  // before anything reaches Redis.
  const { connection, queue } = await openQueue(t, 'wrong-types')
  const item = new Item('x')
  const handler = async () => {}
  const worker = new Worker(queue, handler)
  const cases = [
    [() => Connection.open(6379), /^url must be a string, got a number \(6379\)$/],
    [() => Connection.open(), /^url must be a string, got undefined$/],
    [() => Connection.open(redisUrl, 5), /^options must be an object, got a number \(5\)$/],
    [() => Connection.open(redisUrl, { connectTimeout: '5' }), /^options\.connectTimeout must be a number, got a string \("5"\)$/],
    [() => Connection.open(redisUrl, { responseTimeout: 'never' }), /^options\.responseTimeout must be a number/],
    [() => new WorkQueue({}, 'name'), /^connection must be an instance of Connection, got an object$/],
    [() => new WorkQueue(queue, 'name'), /^connection must be an instance of Connection, got an object$/],
    [() => new WorkQueue(null, 'name'), /^connection must be an instance of Connection, got null$/],
    [() => new WorkQueue(connection, 17), /^name must be a string, got a number \(17\)$/],
    [() => new WorkQueue(connection), /^name must be a string, got undefined$/],
    [() => new WorkQueue(connection, 'name', 3), /^options must be an object/],
    [() => new WorkQueue(connection, 'name', { maxAttempts: '3' }), /^options\.maxAttempts must be a number, got a string \("3"\)$/],
    [() => new WorkQueue(connection, 'name', { backoffBase: true }), /^options\.backoffBase must be a number, got a boolean \(true\)$/],
    [() => new Item(42), /^data must be a Buffer, a Uint8Array or a string, got a number \(42\)$/],
    [() => new Item(), /^data must be a Buffer, a Uint8Array or a string, got undefined$/],
    [() => new Item(new Float64Array(2)), /^data must be a Buffer, a Uint8Array or a string, got an object$/],
    [() => new Item('x', 17), /^id must be a string, got a number \(17\)$/],
    [() => Item.fromJson(undefined), /^value must be a value JSON can hold, got undefined$/],
    [() => queue.addItem({ id: 'x', data: 'y' }), /^item must be an instance of Item, got an object$/],
    [() => queue.addItem(), /^item must be an instance of Item, got undefined$/],
    [() => queue.addItem(queue), /^item must be an instance of Item, got an object$/],
    [() => queue.addUniqueItem('x'), /^item must be an instance of Item, got a string \("x"\)$/],
    [() => queue.addItems('not an array'), /^items must be an array, got a string/],
    [() => queue.addItems([item, 'y']), /^items\[1\] must be an instance of Item, got a string \("y"\)$/],
    [() => queue.addItemWith(null), /^item must be an instance of Item, got null$/],
    [() => queue.addItemWith(item, { priority: '1' }), /^options\.priority must be a number, got a string \("1"\)$/],
    [() => queue.addItemWith(item, { delay: true }), /^options\.delay must be a number, got a boolean \(true\)$/],
    [() => queue.addItemWith(item, { at: '2030-01-01' }), /^options\.at must be a Date or a number of milliseconds since the epoch, got a string/],
    [() => queue.lease('30'), /^leaseSecs must be a number, got a string \("30"\)$/],
    [() => queue.lease(), /^leaseSecs must be a number, got undefined$/],
    [() => queue.lease(30, 'fast'), /^options must be an object, got a string \("fast"\)$/],
    [() => queue.lease(30, { block: 'yes' }), /^options\.block must be a boolean, got a string \("yes"\)$/],
    [() => queue.lease(30, { timeout: '1' }), /^options\.timeout must be a number, got a string \("1"\)$/],
    [() => queue.renew(item, '30'), /^leaseSecs must be a number, got a string \("30"\)$/],
    [() => queue.renew(undefined, 30), /^item must be an instance of Item, got undefined$/],
    [() => queue.complete(undefined), /^item must be an instance of Item, got undefined$/],
    [() => queue.complete(item.id), /^item must be an instance of Item, got a string/],
    [() => queue.fail(item, 42), /^error must be a string, got a number \(42\)$/],
    [() => queue.fail(item), /^error must be a string, got undefined$/],
    [() => queue.fail(item, 'e', '5'), /^retryAfter must be a number, got a string \("5"\)$/],
    [() => queue.release(42), /^item must be an instance of Item, got a number \(42\)$/],
    [() => queue.deadItems('0'), /^offset must be a number, got a string \("0"\)$/],
    [() => queue.deadItems(0, '10'), /^count must be a number, got a string \("10"\)$/],
    [() => queue.requeueDead('x'), /^ids must be an array, got a string \("x"\)$/],
    [() => queue.requeueDead(['a', 1]), /^ids\[1\] must be a string, got a number \(1\)$/],
    [() => queue.purgeDead([null]), /^ids\[0\] must be a string, got null$/],
    [() => queue.purgeDead(), /^ids must be an array, got undefined$/],
    [() => new Worker({}, handler), /^queue must be an instance of WorkQueue, got an object$/],
    [() => new Worker(connection, handler), /^queue must be an instance of WorkQueue, got an object$/],
    [() => new Worker(queue, handler, 'fast'), /^options must be an object/],
    [() => new Worker(queue, handler, { concurrency: '2' }), /^options\.concurrency must be a number, got a string \("2"\)$/],
    [() => new Worker(queue, handler, { cleanEvery: 'often' }), /^options\.cleanEvery must be a number, got a string/],
    [() => new Worker(queue, handler, { after: 'log' }), /^options\.after must be a function, got a string \("log"\)$/],
    [() => worker.run('now'), /^options must be an object, got a string \("now"\)$/],
    [() => worker.run({ stopOnSignals: 'yes' }), /^options\.stopOnSignals must be a boolean, got a string \("yes"\)$/],
  ]
  for (const [call, message] of cases) {
    await assertCode(assert, call, 'EINVAL', message)
  }
  assert.equal(await queue.queueLen(), 0, 'nothing reached the queue')
})

test('a method that returns a Promise rejects on a wrong argument; it never throws', async (t) => {
  const { queue } = await openQueue(t, 'wrong-types-reject')
  const pending = queue.lease('30')
  assert.ok(pending instanceof Promise)
  await assertCode(assert, pending, 'EINVAL', /leaseSecs/)
  const opened = Connection.open(6379)
  assert.ok(opened instanceof Promise)
  await assertCode(assert, opened, 'EINVAL', /url/)
})

test('a string with a lone surrogate is EINVAL wherever leaseq takes a string', async (t) => {
  // Read as UTF-8 it would become U+FFFD: "a\ud800" and "a\udbff" would name one item.
  const { connection, queue } = await openQueue(t, 'lone-surrogate')
  const lone = /has a lone surrogate \(\\ud800 at index 1\): a string that is not well formed has no UTF-8 form$/
  const cases = [
    [() => new Item('data', 'a\ud800'), /^id has a lone surrogate \(\\ud800 at index 1\)/],
    [() => new Item('data', '\udc00b'), /^id has a lone surrogate \(\\udc00 at index 0\)/],
    [() => new Item('data', 'ab\ud800'), /^id has a lone surrogate \(\\ud800 at index 2\)/],
    [() => new Item('a\ud800'), new RegExp('^data ' + lone.source)],
    [() => new WorkQueue(connection, 'a\ud800'), new RegExp('^name ' + lone.source)],
    [() => Connection.open('r\ud800'), new RegExp('^url ' + lone.source)],
    [() => queue.fail(new Item('x'), 'a\ud800'), new RegExp('^error ' + lone.source)],
    [() => queue.requeueDead(['ok', 'a\ud800']), new RegExp('^ids\\[1\\] ' + lone.source)],
    [() => queue.purgeDead(['a\ud800']), new RegExp('^ids\\[0\\] ' + lone.source)],
    [() => new Worker(queue, { ['a\ud800']: async () => {} }), new RegExp("^the handler's item type " + lone.source)],
  ]
  for (const [call, message] of cases) {
    await assertCode(assert, call, 'EINVAL', message)
  }
  // A surrogate pair is well formed: the id round-trips as it was.
  const emoji = new Item('data', 'job-\ud83d\ude00')
  assert.equal(emoji.id, 'job-\u{1f600}')
  assert.equal(await queue.addItem(emoji), true)
  const leased = await queue.lease(30, { block: false })
  assert.equal(leased.id, 'job-\u{1f600}')
  assert.equal(await queue.complete(leased), true)
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
