// Type-checked by `tsc --noEmit -p test/types` (run by test.sh), never run: the generated
// index.d.ts must describe the API as written here, and refuse what is marked @ts-expect-error.
import { Connection, ErrorCode, Item, WorkQueue, errorKinds } from 'leaseq'
import type { CleanReport, ErrorKindInfo, LeaseOptions } from 'leaseq'

export async function worker(url: string): Promise<number> {
  const connection: Connection = await Connection.open(url)
  const queue = new WorkQueue(connection, 'jobs')
  const name: string = queue.name
  const session: string = queue.session

  const added: boolean = await queue.addItem(new Item('text'))
  const nothing: void = await queue.addUniqueItem(new Item(Buffer.from([1, 2]), 'id-1'))
  const count: number = await queue.addItems([Item.fromJson({ n: 1 }), new Item(new Uint8Array(2))])

  const options: LeaseOptions = { block: true, timeout: 0.5 }
  const item: Item | null = await queue.lease(30, options)
  await queue.lease(30)
  await queue.lease(30, { block: false })
  if (item !== null) {
    const id: string = item.id
    const data: Buffer = item.data
    const value: unknown = item.json()
    const renewed: boolean = await queue.renew(item, 60)
    const completed: boolean = await queue.complete(item)
    void [id, data, value, renewed, completed]
  }
  const light: CleanReport = await queue.lightClean()
  const deep: CleanReport = await queue.deepClean()
  const waiting: number = await queue.queueLen()
  const leased: number = await queue.processing()

  const kinds: ErrorKindInfo[] = errorKinds()
  try {
    await queue.complete(new Item('x', ''))
  } catch (err) {
    const code = (err as { code?: string }).code
    if (code === ErrorCode.InvalidArgument || code === ErrorCode.LeaseLost) throw err
  }
  const closed: boolean = connection.isClosed()
  connection.close()

  // @ts-expect-error the lease duration is a number of seconds
  await queue.lease('30')
  // @ts-expect-error lease resolves to Item | null, not Item
  const notNull: Item = await queue.lease(30)
  // @ts-expect-error Connection has no public constructor arguments like this
  new WorkQueue('redis://localhost', 'jobs')
  // @ts-expect-error data is bytes or a string
  new Item(42)

  void [name, session, added, nothing, count, light, deep, kinds, closed, notNull]
  return waiting + leased
}
