// A process whose work is done exits by itself: no leaseq handle keeps the event loop alive.
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { test } from 'node:test'

const fixture = fileURLToPath(new URL('./fixtures/exit.cjs', import.meta.url))

function runChild(mode) {
  const started = performance.now()
  const child = spawnSync(process.execPath, [fixture, mode], {
    encoding: 'utf8',
    timeout: 15_000,
    env: process.env,
  })
  return { ...child, elapsed: performance.now() - started }
}

for (const [mode, expected] of [
  ['close', 'done\n'],
  ['open', 'done\n'],
  ['close-while-waiting', 'done\nlease ended: ECONNECTION\n'],
]) {
  test(`a child process exits by itself (${mode})`, () => {
    const child = runChild(mode)
    assert.equal(child.error, undefined, `the child did not exit: ${child.error}`)
    assert.equal(child.signal, null, 'the child was killed (it did not exit by itself)')
    assert.equal(child.status, 0, child.stderr)
    assert.equal(child.stdout, expected)
    assert.ok(child.elapsed < 10_000, `took ${child.elapsed} ms`)
  })
}
