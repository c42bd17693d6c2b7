// Shared by the tests: the Redis under test, and a key prefix no other test uses.
import { randomUUID } from 'node:crypto'

import { Connection, WorkQueue } from 'leaseq'

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
