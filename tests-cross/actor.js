// A leaseq producer, worker or cleaner for the cross-language run (Node).
// Same arguments and log lines as every actor: see tests-cross/src/lib.rs. The worker is the
// binding's Worker (the core's runtime) with a misbehaving handler.
'use strict'
const fs = require('node:fs')
const { Connection, WorkQueue, Item, Worker } = require('../bindings-node')

// As leaseq_cross::queue_options(): few attempts and short backoffs, so poison items die and
// flaky ones retry within the run.
const QUEUE_OPTIONS = { maxAttempts: 10, backoffBase: 0.05, backoffMax: 0.4 }
// As leaseq_cross::POISON: no handler can finish an item with this data.
const POISON = 'poison'

async function main() {
  const [role, ...rest] = process.argv.slice(2)
  const args = {}
  for (let i = 0; i < rest.length; i += 2) args[rest[i].replace(/^--/, '')] = rest[i + 1]
  const connection = await Connection.open(args.url)
  // The failover mode passes the durability option (WAIT on).
  const queue = new WorkQueue(connection, args.prefix, {
    ...QUEUE_OPTIONS,
    waitReplicas: Number(args['wait-replicas'] ?? 0),
    waitTimeout: Number(args['wait-timeout-ms'] ?? 1000) / 1000,
  })
  const log = fs.openSync(args.log, 'a')
  const line = (event, id) => fs.writeSync(log, `${event} ${id}\n`)
  const leaseSecs = Number(args['lease-ms'] ?? 1000) / 1000
  const number = (name) => Number(args[name] ?? 0)
  const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms))

  if (role === 'producer') {
    const count = number('count')
    for (let start = 0; start < count; start += 50) {
      const items = []
      for (let n = start; n < Math.min(count, start + 50); n++) {
        items.push(new Item(`payload ${n}`, `${args['id-prefix']}-${n}`))
      }
      if (start % 100 === 0) {
        if ((await queue.addItems(items)) !== items.length) throw new Error('batch not added')
      } else {
        for (const item of items) if (!(await queue.addItem(item))) throw new Error('not added')
      }
      for (const item of items) line('added', item.id)
    }
    connection.close()
  } else if (role === 'worker') {
    const [skip, outlive, crash, fail] = ['skip', 'outlive', 'crash', 'fail'].map(number)
    const handler = async (item) => {
      line('delivered', item.id)
      if (item.data.toString() === POISON) throw new Error('poison: this item kills every handler')
      const roll = Math.random()
      if (roll < skip) {
        // Never finishes: the job timeout fails it (a Worker never just drops a lease).
        await new Promise(() => {})
      } else if (roll < skip + outlive) {
        await sleep(leaseSecs * 1500) // the heartbeat keeps the lease meanwhile
      } else if (roll < skip + outlive + crash) {
        process.exit(3)
      } else if (roll < skip + outlive + crash + fail) {
        throw new Error('a flaky handler failed')
      }
      await sleep(number('work-ms'))
      line('completing', item.id)
    }
    const worker = new Worker(queue, handler, {
      leaseSecs,
      jobTimeout: leaseSecs * 3,
      after: (item, outcome) => {
        if (outcome.outcome === 'completed' && outcome.completed) line('completed', item.id)
      },
    })
    await worker.run() // until killed
  } else if (role === 'runtime-worker') {
    // The failover mode's worker: the Worker runtime, which carries on by itself through a
    // failover.
    const worker = new Worker(
      queue,
      async (item) => {
        line('delivered', item.id)
        await sleep(number('work-ms'))
        line('completing', item.id)
      },
      {
        concurrency: Number(args.concurrency ?? 4),
        leaseSecs,
        cleanEvery: 1,
        after: (item, outcome) => {
          if (outcome.outcome === 'completed' && outcome.completed) line('completed', item.id)
        },
      },
    )
    await worker.run() // until killed
  } else if (role === 'cleaner') {
    // A light (or with --clean deep, deep) clean every --every-ms; 0 is a tight loop.
    const kind = args.clean ?? 'light'
    const every = Number(args['every-ms'] ?? 200)
    for (;;) {
      const report = kind === 'deep' ? await queue.deepClean() : await queue.lightClean()
      line(kind, String(report.requeued))
      if (every > 0) await sleep(every)
    }
  } else {
    throw new Error(`unknown role ${role}`)
  }
}

main().catch((err) => {
  console.error(err)
  process.exit(1)
})
