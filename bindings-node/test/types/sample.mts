// Type-checked by `tsc --noEmit -p test/types` (run by test.sh), never run: the generated
// index.d.ts must describe the API as written here, and refuse what is marked @ts-expect-error.
import { Connection, ErrorCode, Item, MAX_BATCH, MAX_PRIORITY, WorkQueue, Worker, errorKinds } from 'leaseq'
import type {
  AddOptions,
  CleanReport,
  CompleteAndLeaseResult,
  ConnectionOptions,
  DeadItem,
  ErrorKindInfo,
  FailOutcome,
  JobOutcome,
  LeaseOptions,
  QueueOptions,
  RunOptions,
  WorkerCounters,
  WorkerOptions,
} from 'leaseq'

export async function worker(url: string): Promise<number> {
  const timeouts: ConnectionOptions = { connectTimeout: 2, responseTimeout: 10 }
  const connection: Connection = await Connection.open(url, timeouts)
  await Connection.open(url, { responseTimeout: null })
  await Connection.open(url, {})
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
    const next: CompleteAndLeaseResult = await queue.completeAndLease(item, 30, 2)
    const nextLeased: Item[] = next.leased
    void [id, data, value, renewed, completed, next.completed, nextLeased]
  }
  const batch: Item[] = await queue.leaseMany(30, MAX_BATCH, { block: false })
  const batchCompleted: boolean[] = await queue.completeMany(batch)
  void batchCompleted
  const light: CleanReport = await queue.lightClean()
  const buried: number = light.dead
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

  // @ts-expect-error a timeout is a number of seconds
  await Connection.open(url, { responseTimeout: '10' })
  // @ts-expect-error only the response timeout may be null
  await Connection.open(url, { connectTimeout: null })
  // @ts-expect-error the lease duration is a number of seconds
  await queue.lease('30')
  // @ts-expect-error leaseMany takes a count
  await queue.leaseMany(30)
  // @ts-expect-error lease resolves to Item | null, not Item
  const notNull: Item = await queue.lease(30)
  // @ts-expect-error Connection has no public constructor arguments like this
  new WorkQueue('redis://localhost', 'jobs')
  // @ts-expect-error data is bytes or a string
  new Item(42)

  void [name, session, added, nothing, count, light, buried, deep, kinds, closed, notNull]
  return waiting + leased
}

export async function lifecycle(connection: Connection): Promise<void> {
  const options: QueueOptions = { maxAttempts: 5, backoffBase: 0.5, backoffMax: 60, uniqueWindow: 3600 }
  const queue = new WorkQueue(connection, 'jobs', options)
  new WorkQueue(connection, 'jobs', {})
  const durable: QueueOptions = { cleanGrace: 2, waitReplicas: 1, waitTimeout: 0.5, fencing: true }
  new WorkQueue(connection, 'jobs', durable)

  const when: AddOptions = { priority: MAX_PRIORITY, delay: 1.5 }
  const added: boolean = await queue.addItemWith(new Item('x'), when)
  await queue.addItemWith(new Item('y'), { at: new Date(Date.now() + 60_000) })
  await queue.addItemWith(new Item('z'), { at: Date.now() + 60_000 })
  await queue.addItemWith(new Item('plain'))

  const item = await queue.lease(30)
  if (item !== null) {
    const attempts: number = item.attempts
    const fence: number = item.fence
    const result: FailOutcome = await queue.fail(item, 'boom', 5)
    if (result.outcome === 'retry') {
      const due: Date | undefined = result.retryAt
      void due
    } else if (result.outcome === 'dead' || result.outcome === 'gone') {
      // the only three outcomes
    }
    await queue.fail(item, 'boom')
    const released: boolean = await queue.release(item)
    void [attempts, fence, released]
  }

  const counts: number[] = [
    await queue.prioritizedLen(),
    await queue.delayedLen(),
    await queue.deadLen(),
    await queue.requeueDead(['a', 'b']),
    await queue.purgeDead(['c']),
    await queue.requeueAllDead(),
    await queue.purgeAllDead(),
  ]
  const page: DeadItem[] = await queue.deadItems()
  await queue.deadItems(10)
  for (const dead of await queue.deadItems(0, 50)) {
    const [id, attempts, error, diedAt]: [string, number, string, Date] = [
      dead.item.id,
      dead.item.attempts,
      dead.error,
      dead.diedAt,
    ]
    void [id, attempts, error, diedAt]
  }
  const nothing: void = await queue.pause()
  const wasPaused: boolean = await queue.resume()
  const paused: boolean = await queue.isPaused()

  // @ts-expect-error at is a Date or epoch milliseconds, not a string
  await queue.addItemWith(new Item('x'), { at: '2030-01-01' })
  // @ts-expect-error the error is a message string
  await queue.fail(new Item('x'), new Error('boom'))
  // @ts-expect-error outcome is one of three strings
  const impossible: FailOutcome = { outcome: 'maybe' }
  // @ts-expect-error the ids are strings
  await queue.requeueDead([1, 2])

  void [added, counts, page, nothing, wasPaused, paused, impossible]
}

export async function work(queue: WorkQueue): Promise<WorkerCounters> {
  const seen: string[] = []
  const options: WorkerOptions = {
    concurrency: 4,
    leaseSecs: 30,
    jobTimeout: 60,
    shutdownTimeout: 10,
    cleanEvery: 5,
    before: (item: Item) => seen.push(item.id),
    after: (item: Item, outcome: JobOutcome) => {
      if (outcome.outcome === 'failed') seen.push(`${item.id}: ${outcome.error ?? ''}`)
      if (outcome.outcome === 'completed' && outcome.completed === true) seen.push(item.id)
    },
  }
  const worker = new Worker(queue, async (item: Item) => {
    seen.push(item.id)
  }, options)
  new Worker(queue, (item) => void item.json()) // a handler may return nothing
  new Worker(queue, async () => {}, { cleanEvery: null })

  const run: RunOptions = { stopOnSignals: true }
  const done: Promise<void> = worker.run(run)
  await worker.run()
  worker.stop()
  await done
  const counters: WorkerCounters = worker.counters()
  const total: number =
    counters.leased + counters.completed + counters.failed + counters.retried + counters.renewed + counters.inFlight

  // @ts-expect-error the handler takes an Item
  new Worker(queue, async (item: string) => void item)
  // @ts-expect-error concurrency is a number
  new Worker(queue, async () => {}, { concurrency: '4' })
  // @ts-expect-error the outcome names are fixed
  const bad: JobOutcome['outcome'] = 'succeeded'

  void [total, bad]
  return counters
}

export async function routed(queue: WorkQueue): Promise<void> {
  const sendEmail = async (item: Item): Promise<void> => void item.json()
  const worker = new Worker(queue, {
    email: sendEmail,
    resize: (item) => {
      const type: string | null = item.typeName // the parameter is inferred as Item
      void type
    },
  }, { concurrency: 2 })
  await worker.run()
  const routes: Record<string, (item: Item) => Promise<void>> = { email: sendEmail }
  new Worker(queue, routes)
  await queue.addItem(Item.fromJson({ type: 'email', to: 'a@example.com' }))

  // @ts-expect-error every route is a handler function
  new Worker(queue, { email: sendEmail, fax: 'not a function' })
  // @ts-expect-error a route takes an Item
  new Worker(queue, { email: async (item: string) => void item })
  // @ts-expect-error typeName is read-only
  new Item('x').typeName = 'email'
}
