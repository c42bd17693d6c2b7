// The CommonJS view of the same typings: `import … = require('leaseq')`.
import leaseq = require('leaseq')

export async function addOne(url: string): Promise<boolean> {
  const connection = await leaseq.Connection.open(url)
  try {
    const queue = new leaseq.WorkQueue(connection, 'jobs')
    const worker = new leaseq.Worker(queue, async (item: leaseq.Item) => void item.id, { concurrency: 2 })
    worker.stop()
    return await queue.addItemWith(new leaseq.Item('hello'), { priority: leaseq.MAX_PRIORITY })
  } finally {
    connection.close()
  }
}
