// The CommonJS view of the same typings: `import … = require('leaseq')`.
import leaseq = require('leaseq')

export async function addOne(url: string): Promise<boolean> {
  const connection = await leaseq.Connection.open(url)
  try {
    const queue = new leaseq.WorkQueue(connection, 'jobs')
    return await queue.addItem(new leaseq.Item('hello'))
  } finally {
    connection.close()
  }
}
