// Shared by the tests: the Redis under test, and a key prefix no other test uses.
import { randomUUID } from 'node:crypto'

import assert from 'node:assert/strict'

import { Connection, Item, WorkQueue } from 'leaseq'

export const redisUrl = process.env.LEASEQ_REDIS_URL
if (!redisUrl) {
  throw new Error('LEASEQ_REDIS_URL is not set: run the tests through bindings-node/test.sh')
}

/** A key prefix unique to one test, so tests never see each other's items. */
export function uniquePrefix(label) {
  return `leaseq-node-test:${label}:${randomUUID()}`
}

/** Opens a connection and a queue with a unique prefix; closes the connection after the test. */
export async function openQueue(t, label) {
  const connection = await Connection.open(redisUrl)
  t.after(() => connection.close())
  return { connection, queue: new WorkQueue(connection, uniquePrefix(label)) }
}

/** A queue with `options`, on a fresh connection closed after the test. */
export async function queueWith(t, label, options) {
  const { connection } = await openQueue(t, label)
  return { connection, queue: new WorkQueue(connection, uniquePrefix(label), options) }
}

/** Leases the one item there is, failing the test if there is none. */
export async function leaseOne(queue, leaseSecs = 30) {
  const item = await queue.lease(leaseSecs, { block: false })
  assert.ok(item instanceof Item, 'an item was there to lease')
  return item
}

/** Asserts that `promiseOrCall` rejects (or throws) an Error whose `code` is `code`. */
export async function assertCode(assert, promiseOrCall, code, messagePattern) {
  await assert.rejects(
    async () => (typeof promiseOrCall === 'function' ? promiseOrCall() : promiseOrCall),
    (err) => {
      assert.ok(err instanceof Error, `expected an Error, got ${err}`)
      assert.equal(err.code, code, `code of "${err.message}"`)
      if (messagePattern) assert.match(err.message, messagePattern)
      return true
    },
  )
}
