// The eviction check at Connection.open: a Redis whose maxmemory-policy is not noeviction may
// evict queue keys, so opening emits one process warning with code LEASEQ_EVICTION, or rejects
// with ?eviction=refuse. The evicting server is this file's own, so no other test sees it.
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { createServer } from 'node:net'
import { test } from 'node:test'

import { Connection } from 'leaseq'

import { assertCode, redisUrl } from './helpers.mjs'

async function freePort() {
  const server = createServer()
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address()
  await new Promise((resolve) => server.close(resolve))
  return port
}

/** A redis-server of this test's own with `policy`; stopped after the test. */
async function evictingRedis(t, policy) {
  const port = await freePort()
  const server = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '',
    '--appendonly', 'no', '--maxmemory-policy', policy], { stdio: 'ignore' })
  t.after(() => server.kill())
  const url = `redis://127.0.0.1:${port}`
  for (let tries = 0; tries < 200; tries++) {
    try {
      const connection = await Connection.open(`${url}?eviction=ignore`)
      connection.close()
      return url
    } catch {
      await new Promise((resolve) => setTimeout(resolve, 25))
    }
  }
  throw new Error(`redis-server on ${port} did not start`)
}

/** The process warnings emitted while `open` runs (they are emitted on the next tick). */
async function warningsOf(open) {
  const warnings = []
  const listener = (warning) => warnings.push(warning)
  process.on('warning', listener)
  try {
    const connection = await open()
    connection.close()
    await new Promise((resolve) => setImmediate(resolve))
  } finally {
    process.off('warning', listener)
  }
  return warnings.filter((warning) => warning.code === 'LEASEQ_EVICTION')
}

test('an evicting Redis gives one LEASEQ_EVICTION warning at open', async (t) => {
  const url = await evictingRedis(t, 'allkeys-lru')
  const warnings = await warningsOf(() => Connection.open(url))
  assert.equal(warnings.length, 1)
  assert.match(warnings[0].message, /has maxmemory-policy allkeys-lru/)
  assert.match(warnings[0].message, /CONFIG SET maxmemory-policy noeviction/)
  assert.equal(warnings[0].name, 'Warning')
  assert.deepEqual(await warningsOf(() => Connection.open(`${url}?eviction=ignore`)), [])
  await assertCode(assert, Connection.open(`${url}?eviction=refuse`), 'ECONNECTION', /allkeys-lru.*CONFIG SET maxmemory-policy noeviction/)
})

test('a noeviction Redis gives no warning, and a bad eviction parameter is EINVAL', async () => {
  assert.deepEqual(await warningsOf(() => Connection.open(redisUrl)), [])
  await assertCode(assert, Connection.open(`${redisUrl}?eviction=often`), 'EINVAL', /warn, refuse or ignore/)
})
