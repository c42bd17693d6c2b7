// Connection timeouts: Connection.open's options reach the core, an answer later than the
// response timeout rejects with ETIMEOUT and leaves the connection usable, and bad values are
// refused before anything connects.
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { createServer } from 'node:net'
import { setTimeout as sleep } from 'node:timers/promises'
import { test } from 'node:test'

import { Connection, Item, WorkQueue } from 'leaseq'

import { assertCode, uniquePrefix } from './helpers.mjs'

// A Redis server of this file's own: keeping it busy must not stall the other test files,
// which node --test runs at the same time against the shared one.
const port = await new Promise((resolve) => {
  const server = createServer().listen(0, '127.0.0.1', () => {
    const { port } = server.address()
    server.close(() => resolve(port))
  })
})
const redisUrl = `redis://127.0.0.1:${port}`
const redis = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], {
  stdio: 'ignore',
})
redis.unref() // the server must not keep this file's process alive; it ends with it
process.on('exit', () => redis.kill('SIGKILL'))
for (let tries = 0; ; tries++) {
  const ping = spawn('redis-cli', ['-u', redisUrl, 'PING'], { stdio: ['ignore', 'pipe', 'ignore'] })
  let answer = ''
  ping.stdout.on('data', (chunk) => (answer += chunk))
  await once(ping, 'exit')
  if (answer.trim() === 'PONG') break
  assert.ok(tries < 100, `redis-server on port ${port} did not start`)
  await sleep(50)
}

// Loops on TIME for ARGV[1] ms: Redis answers no one else meanwhile (no DEBUG command needed).
const BUSY_SCRIPT = `
local s = redis.call('TIME')
local t0 = s[1] * 1000000 + s[2]
repeat
  local n = redis.call('TIME')
until n[1] * 1000000 + n[2] - t0 >= tonumber(ARGV[1]) * 1000
return 1`

/** Keeps Redis busy for `millis` ms from another client (redis-cli), as a child process. */
function keepRedisBusy(t, millis) {
  const child = spawn('redis-cli', ['-u', redisUrl, 'EVAL', BUSY_SCRIPT, '0', String(millis)], {
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let output = ''
  child.stdout.on('data', (chunk) => (output += chunk))
  child.stderr.on('data', (chunk) => (output += chunk))
  const exited = new Promise((resolve, reject) => {
    child.once('error', reject)
    child.once('exit', (code, signal) => resolve({ code, signal, output }))
  })
  t.after(() => child.exitCode === null && child.signalCode === null && child.kill('SIGKILL'))
  return exited
}

async function openWith(t, options) {
  const connection = await Connection.open(redisUrl, options)
  t.after(() => connection.close())
  return { connection, queue: new WorkQueue(connection, uniquePrefix('timeouts')) }
}

test('an answer later than responseTimeout rejects with ETIMEOUT; the connection goes on', async (t) => {
  const { queue } = await openWith(t, { responseTimeout: 0.2 })
  assert.equal(await queue.queueLen(), 0) // connected, and fast when Redis is idle

  const busy = keepRedisBusy(t, 800)
  // redis-cli takes a moment to start: ask until an answer is late (each call is timed alone).
  const deadline = performance.now() + 3000
  let rejected
  while (rejected === undefined) {
    assert.ok(performance.now() < deadline, 'no call timed out while Redis was kept busy')
    const started = performance.now()
    try {
      await queue.queueLen()
    } catch (err) {
      rejected = { err, elapsed: performance.now() - started }
      break
    }
    const elapsed = performance.now() - started
    assert.ok(elapsed < 600, `queueLen waited ${elapsed} ms with a response timeout of 200 ms`)
    await sleep(10)
  }
  const { err, elapsed } = rejected
  assert.ok(err instanceof Error, `expected an Error, got ${err}`)
  assert.equal(err.code, 'ETIMEOUT', `code of "${err.message}"`)
  assert.ok(elapsed >= 150 && elapsed < 600, `rejected after ${elapsed} ms`)

  const { code, output } = await busy
  assert.equal(code, 0, `redis-cli: ${output}`)
  assert.equal(output.trim(), '1', 'the busy script did not run to its end')
  // Redis answers again, and so does the same connection.
  assert.equal(await queue.queueLen(), 0)
  assert.equal(await queue.addItem(new Item('after the timeout')), true)
  assert.equal(await queue.queueLen(), 1)
})

test('each timeout is optional, and responseTimeout may be null (wait for ever)', async (t) => {
  for (const options of [
    undefined,
    null,
    {},
    { connectTimeout: 1 },
    { responseTimeout: null },
    { responseTimeout: 10, connectTimeout: undefined },
    { connectTimeout: 0.5, responseTimeout: undefined },
  ]) {
    const { queue } = await openWith(t, options)
    assert.equal(await queue.queueLen(), 0, `with ${JSON.stringify(options)}`)
  }
})

test('zero, negative and non-finite timeouts are EINVAL, before connecting', async () => {
  // An unreachable server: the refusal comes before any attempt to connect.
  const unreachable = 'redis://127.0.0.1:1'
  for (const secs of [0, -0, -1, -0.001, NaN, Infinity, -Infinity, 1e300]) {
    for (const url of [redisUrl, unreachable]) {
      await assertCode(assert, Connection.open(url, { connectTimeout: secs }), 'EINVAL', /connect ?timeout/i)
      await assertCode(assert, Connection.open(url, { responseTimeout: secs }), 'EINVAL', /response ?timeout/i)
    }
  }
})
