// The module works in worker threads, and a thread terminated with a lease still waiting takes
// nothing down with it.
import assert from 'node:assert/strict'
import { setTimeout as sleep } from 'node:timers/promises'
import { test } from 'node:test'
import { Worker } from 'node:worker_threads'

import { uniquePrefix } from './helpers.mjs'

const threadCode = `
const { Connection, Item, WorkQueue } = require('leaseq')
const { parentPort, workerData } = require('node:worker_threads')
;(async () => {
  const connection = await Connection.open(process.env.LEASEQ_REDIS_URL)
  const queue = new WorkQueue(connection, workerData.prefix)
  await queue.addItem(new Item('from a worker thread'))
  const item = await queue.lease(10, { block: false })
  const completed = await queue.complete(item)
  queue.lease(10).catch(() => {}) // still waiting when the thread is terminated
  parentPort.postMessage({ data: item.data.toString(), completed })
})()
`

test('worker threads use leaseq and can be terminated mid-lease', async () => {
  for (let round = 0; round < 3; round++) {
    const worker = new Worker(threadCode, {
      eval: true,
      env: process.env,
      workerData: { prefix: uniquePrefix('worker-thread') },
    })
    const message = await new Promise((resolve, reject) => {
      worker.once('message', resolve)
      worker.once('error', reject)
    })
    assert.deepEqual(message, { data: 'from a worker thread', completed: true })
    await sleep(50)
    await worker.terminate()
  }
})
