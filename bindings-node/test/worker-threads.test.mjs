// The module works in worker threads, and a thread terminated with a lease still waiting (or a
// leaseq Worker still running) takes nothing down with it and leaves nothing running.
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

const workerThreadCode = `
const { Connection, WorkQueue, Worker } = require('leaseq')
const { parentPort, workerData } = require('node:worker_threads')
;(async () => {
  const connection = await Connection.open(process.env.LEASEQ_REDIS_URL)
  const queue = new WorkQueue(connection, workerData.prefix)
  const worker = new Worker(queue, (item) => {
    parentPort.postMessage(item.id)
    return new Promise(() => {}) // still running when the thread is terminated
  }, { shutdownTimeout: 0.1 })
  await worker.run()
})()
`

test('a leaseq Worker in a terminated thread stops: nothing is leased for it afterwards', async (t) => {
  const { Connection, Item, WorkQueue } = await import('leaseq')
  const connection = await Connection.open(process.env.LEASEQ_REDIS_URL)
  t.after(() => connection.close())
  const prefix = uniquePrefix('worker-thread-runtime')
  const queue = new WorkQueue(connection, prefix)
  await queue.addItem(new Item('first', 'first'))
  const thread = new Worker(workerThreadCode, { eval: true, env: process.env, workerData: { prefix } })
  const started = await new Promise((resolve, reject) => {
    thread.once('message', resolve)
    thread.once('error', reject)
  })
  assert.equal(started, 'first')
  await thread.terminate()
  await queue.addItems([new Item('a'), new Item('b'), new Item('c')])
  await sleep(1500) // a run loop left behind would lease (and fail) these within milliseconds
  assert.ok((await queue.queueLen()) >= 3, 'the new items are still waiting')
  assert.ok((await queue.processing()) <= 1, 'only the item that was running may still be leased')
})
