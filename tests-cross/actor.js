// A leaseq producer, worker or cleaner for the cross-language run (Node).
// Same arguments and log lines as every actor: see tests-cross/src/lib.rs.
'use strict'
const fs = require('node:fs')
const { Connection, WorkQueue, Item } = require('../bindings-node')

async function main() {
  const [role, ...rest] = process.argv.slice(2)
  const args = {}
  for (let i = 0; i < rest.length; i += 2) args[rest[i].replace(/^--/, '')] = rest[i + 1]
  const connection = await Connection.open(args.url)
  const queue = new WorkQueue(connection, args.prefix)
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
    for (;;) {
      const item = await queue.lease(leaseSecs, { block: true, timeout: 0.5 })
      if (item === null) continue
      line('delivered', item.id)
      const roll = Math.random()
      const [skip, outlive, crash] = [number('skip'), number('outlive'), number('crash')]
      if (roll < skip) continue
      if (roll < skip + outlive) await sleep(leaseSecs * 1500)
      else if (roll < skip + outlive + crash) process.exit(3)
      await sleep(number('work-ms'))
      line('completing', item.id)
      if (await queue.complete(item)) line('completed', item.id)
    }
  } else if (role === 'cleaner') {
    for (;;) {
      await queue.lightClean()
      await sleep(Number(args['every-ms'] ?? 200))
    }
  } else {
    throw new Error(`unknown role ${role}`)
  }
}

main().catch((err) => {
  console.error(err)
  process.exit(1)
})
