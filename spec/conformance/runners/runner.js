// The Node runner of the conformance cases in spec/conformance/: drives the bindings-node package only.
//
// driver.py starts it once and sends one case per line on stdin:
// {"case": name, "url": redis_url, "prefix": p, "queue_options"?: {...},
//  "steps": [{"op", "args", "queue"?}, ...]}.
// The items the case's lease steps returned are kept, in order: renew, complete, fail and release
// with "delivery": k act on the k-th (from 1), so its fence travels; without it, on an item made
// from "id" alone (fence 0).
// It runs the steps through leaseq's public API and answers with one line,
// {"results": [{"ok": value} | {"error": kind, "message": text}, ...]}, each result with the
// step's wall time in "ms". The driver does the setup and checks the results and the keys.
'use strict'

const readline = require('node:readline')
const { Connection, Item, WorkQueue, Worker } = require('../../../bindings-node')

const KINDS = {
  ECONNECTION: 'Connection',
  ETIMEOUT: 'Timeout',
  EINVAL: 'InvalidArgument',
  ELEASE_LOST: 'LeaseLost',
  EINTERNAL: 'Internal',
}

/** A case this runner cannot read; reported as kind "Harness", which no case expects. */
class Harness extends Error {}

function kindOf(err) {
  if (err instanceof Harness) return 'Harness'
  if (err && Object.prototype.hasOwnProperty.call(KINDS, err.code)) return KINDS[err.code]
  // Not a leaseq error: the binding broke its error contract; the driver shows what it was.
  return `Unexpected ${err && err.constructor ? err.constructor.name : typeof err} code=${err && err.code}`
}

function makeItem(args) {
  const data = Buffer.from(args.data, 'utf8')
  return args.id === undefined || args.id === null ? new Item(data) : new Item(data, args.id)
}

// A negative value is passed on as is: the binding must refuse it, not the runner.
const secs = (millis) => millis / 1000

function itemJson(item, args = {}) {
  if (item === null) return null
  const found = { id: item.id, data: item.data.toString('utf8') }
  if (args.with_attempts === true) found.attempts = item.attempts
  if (args.with_fence === true) found.fence = item.fence
  return found
}
const reportJson = (report) => ({ requeued: report.requeued, dropped: report.dropped, dead: report.dead })
const deadJson = (dead) => ({
  id: dead.item.id,
  data: dead.item.data.toString('utf8'),
  attempts: dead.item.attempts,
  error: dead.error,
})
const given = (value) => value !== undefined && value !== null

const KNOWN_OPTIONS = [
  'max_attempts',
  'backoff_base_ms',
  'backoff_max_ms',
  'unique_window_ms',
  'clean_grace_ms',
  'wait_replicas',
  'wait_timeout_ms',
  'fencing',
]

/** The case's queue_options (all optional, milliseconds for durations) as WorkQueue options. */
function queueOptions(options) {
  if (!options) return undefined
  const unknown = Object.keys(options).filter((name) => !KNOWN_OPTIONS.includes(name))
  if (unknown.length > 0) throw new Harness(`unknown queue options ${JSON.stringify(unknown.sort())}`)
  const seconds = (name) => (given(options[name]) ? secs(options[name]) : undefined)
  const asIs = (name) => (given(options[name]) ? options[name] : undefined)
  return {
    maxAttempts: asIs('max_attempts'),
    backoffBase: seconds('backoff_base_ms'),
    backoffMax: seconds('backoff_max_ms'),
    uniqueWindow: seconds('unique_window_ms'),
    cleanGrace: seconds('clean_grace_ms'),
    waitReplicas: asIs('wait_replicas'),
    waitTimeout: seconds('wait_timeout_ms'),
    fencing: asIs('fencing'),
  }
}
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms))

// ---------------------------------------------------------------------------------------------
// run_worker: a Worker with a scripted handler (README.md, "Worker cases")

// How long a run may go at most when the case gives no stop_after_ms.
const DEFAULT_STOP_AFTER_MS = 5000
// How long the runner waits, after a run returned, for after hooks still on their way.
const LATE_HOOKS_MS = 1000
// How long a run after a stop may take before the runner calls it not returned at once.
const STOPPED_RUN_LIMIT_MS = 2000
// How long a second run has to refuse before the runner calls it running.
const SECOND_RUN_WAIT_MS = 500
const OUTCOME_NAMES = { completed: 'completed', failed: 'failed', released: 'released', leaseLost: 'lease_lost' }

/** An action as {sleep_ms?, raise?}: "ok" is neither. */
function checkAction(action) {
  if (action === 'ok') return {}
  if (action && typeof action === 'object' && Object.keys(action).every((k) => k === 'sleep_ms' || k === 'raise')) {
    return action
  }
  throw new Harness(`an action is "ok" or {sleep_ms?, raise?}, not ${JSON.stringify(action)}`)
}

/** A handler doing `actionOf(item)`: sleep, then throw an Error with the message (or return). */
function scriptedHandler(actionOf) {
  return async (item) => {
    const action = actionOf(item)
    if (action.sleep_ms) await sleep(action.sleep_ms)
    if (action.raise !== undefined) throw new Error(action.raise)
  }
}

/** Whether `promise` settles within `ms`: {settled, value | error}. */
async function settlesWithin(promise, ms) {
  let timer
  const late = new Promise((resolve) => {
    timer = setTimeout(() => resolve({ settled: false }), ms)
  })
  const settled = promise.then(
    (value) => ({ settled: true, value }),
    (error) => ({ settled: true, error }),
  )
  try {
    return await Promise.race([settled, late])
  } finally {
    clearTimeout(timer)
  }
}

async function runWorker(queue, args) {
  let handler
  if (args.routes !== undefined) {
    handler = {}
    for (const [typeName, action] of args.routes) {
      if (Object.prototype.hasOwnProperty.call(handler, typeName)) {
        throw new Harness('an object cannot hold an item type twice (the case should skip)')
      }
      const checked = checkAction(action)
      handler[typeName] = scriptedHandler(() => checked)
    }
  } else {
    const byId = {}
    for (const [id, action] of Object.entries(args.handler || {})) byId[id] = checkAction(action)
    handler = scriptedHandler((item) => byId[item.id] || byId['*'] || {})
  }
  const given = args.options || {}
  const options = { cleanEvery: null } // a clean mid-case would change its keys
  if (given.concurrency !== undefined) options.concurrency = given.concurrency
  if (given.lease_ms !== undefined) options.leaseSecs = secs(given.lease_ms)
  if (given.job_timeout_ms !== undefined) options.jobTimeout = secs(given.job_timeout_ms)
  if (given.shutdown_timeout_ms !== undefined) options.shutdownTimeout = secs(given.shutdown_timeout_ms)
  if (given.clean_every_ms !== undefined) options.cleanEvery = secs(given.clean_every_ms)
  const beforeIds = []
  const outcomes = []
  options.before = (item) => beforeIds.push(item.id)
  options.after = (item, outcome) => {
    const record = { id: item.id, outcome: OUTCOME_NAMES[outcome.outcome] || outcome.outcome }
    if (outcome.outcome === 'completed') record.completed = outcome.completed
    if (outcome.outcome === 'failed') record.error = outcome.error
    const index = beforeIds.indexOf(item.id)
    if (index >= 0) beforeIds.splice(index, 1)
    else record.hooks = 'after without before'
    outcomes.push(record)
  }
  const until = args.until || {}
  const wanted = until.outcomes
  const stopAfter = until.stop_after_ms !== undefined ? until.stop_after_ms : DEFAULT_STOP_AFTER_MS
  const worker = new Worker(queue, handler, options)
  const result = {}
  if (args.stop_first) {
    worker.stop()
    const started = Date.now()
    const stopped = worker.run()
    const first = await settlesWithin(stopped, STOPPED_RUN_LIMIT_MS)
    if (!first.settled) worker.stop() // not returned at once: stop it again; the time says so
    try {
      await stopped
    } finally {
      result.stopped_run_ms = Date.now() - started
    }
  }
  const started = Date.now()
  const running = worker.run()
  // Known if it failed, so an early failure is not an unhandled rejection meanwhile.
  running.catch(() => {})
  let second
  if (args.second_run) {
    // Once an item's before hook ran, the first run is surely going.
    while (beforeIds.length === 0 && outcomes.length === 0 && Date.now() - started < stopAfter) await sleep(5)
    second = worker.run()
    const verdict = await settlesWithin(second, SECOND_RUN_WAIT_MS)
    if (!verdict.settled) result.second_run = 'running'
    else if (verdict.error === undefined) result.second_run = 'ok'
    else result.second_run = kindOf(verdict.error)
  }
  while (Date.now() - started < stopAfter && (wanted === undefined || outcomes.length < wanted)) await sleep(5)
  // Stopped until every run ended: a binding that let a second run start may end the first,
  // which readies the worker to run again, while the second still goes.
  let ended = false
  Promise.allSettled([running, second]).then(() => {
    ended = true
  })
  while (!ended) {
    worker.stop()
    await sleep(20)
  }
  await running
  const late = Date.now()
  while (wanted !== undefined && outcomes.length < wanted && Date.now() - late < LATE_HOOKS_MS) await sleep(5)
  // By id; one item's outcomes stay in the order they came (sort is stable).
  result.outcomes = outcomes.slice().sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
  const counters = worker.counters()
  result.counters = {
    leased: counters.leased,
    completed: counters.completed,
    failed: counters.failed,
    retried: counters.retried,
    renewed: counters.renewed,
    in_flight: counters.inFlight,
  }
  return result
}

/**
 * The handles one case acts through: "main" and any other name ("second", ...) is a WorkQueue
 * of its own (its own session) on the case's prefix, made on first use, unless a new_queue step
 * registered that name for another prefix.
 */
class CaseRun {
  constructor(connection, prefix, options) {
    this.connection = connection
    this.prefix = prefix
    this.options = options
    this.queues = new Map()
    // Every item a lease step returned, in order: "delivery": k names the k-th.
    this.deliveries = []
  }

  /**
   * The item renew, complete, fail and release act on: the k-th leased item for "delivery": k
   * (its fence travels), else one made from the id alone (fence 0; the data an item carries plays
   * no part in these calls).
   */
  leasedItem(args) {
    if (!given(args.delivery)) return new Item(Buffer.alloc(0), args.id)
    const k = args.delivery
    if (!Number.isInteger(k) || k < 1 || k > this.deliveries.length) {
      throw new Harness(`delivery ${JSON.stringify(k)}: this case has ${this.deliveries.length} so far`)
    }
    return this.deliveries[k - 1]
  }

  queue(name) {
    if (!this.queues.has(name)) {
      this.queues.set(name, new WorkQueue(this.connection, this.prefix, this.options))
    }
    return this.queues.get(name)
  }

  async step(step) {
    const args = step.args || {}
    switch (step.op) {
      case 'sleep':
        await sleep(args.ms)
        return null
      case 'new_queue': {
        const queue = new WorkQueue(this.connection, args.name, this.options)
        if (args.as) this.queues.set(args.as, queue)
        return null
      }
      case 'open':
        ;(await Connection.open(args.url)).close()
        return null
      case 'close':
        this.connection.close()
        return null
    }
    const queue = this.queue(step.queue || 'main')
    switch (step.op) {
      case 'add_item':
        return await queue.addItem(makeItem(args))
      case 'add_unique_item':
        await queue.addUniqueItem(makeItem(args))
        return null
      case 'add_items':
        return await queue.addItems(args.items.map(makeItem))
      case 'lease': {
        const options = { block: Boolean(args.block) }
        if (given(args.timeout_ms)) options.timeout = secs(args.timeout_ms)
        const item = await queue.lease(secs(args.lease_ms), options)
        if (item !== null) this.deliveries.push(item)
        return itemJson(item, args)
      }
      case 'lease_many': {
        const options = { block: Boolean(args.block) }
        if (given(args.timeout_ms)) options.timeout = secs(args.timeout_ms)
        const items = await queue.leaseMany(secs(args.lease_ms), args.count, options)
        this.deliveries.push(...items)
        return items.map((item) => itemJson(item, args))
      }
      case 'complete_and_lease': {
        const result = await queue.completeAndLease(this.leasedItem(args), secs(args.lease_ms), args.count)
        this.deliveries.push(...result.leased)
        return { completed: result.completed, leased: result.leased.map((item) => itemJson(item, args)) }
      }
      case 'complete_many':
        // An entry is an id (an item made from it alone) or a delivery number.
        return await queue.completeMany(
          args.items.map((entry) => (typeof entry === 'string' ? this.leasedItem({ id: entry }) : this.leasedItem({ delivery: entry }))),
        )
      case 'renew':
        return await queue.renew(this.leasedItem(args), secs(args.lease_ms))
      case 'complete':
        return await queue.complete(this.leasedItem(args))
      case 'light_clean':
        return reportJson(await queue.lightClean())
      case 'deep_clean':
        return reportJson(await queue.deepClean())
      case 'queue_len':
        return await queue.queueLen()
      case 'processing':
        return await queue.processing()
      case 'add_item_with': {
        const options = {}
        if (given(args.priority)) options.priority = args.priority
        if (given(args.delay_ms)) options.delay = secs(args.delay_ms)
        if (given(args.at_ms)) options.at = new Date(args.at_ms)
        return await queue.addItemWith(makeItem(args), options)
      }
      case 'fail': {
        const retryAfter = given(args.retry_after_ms) ? secs(args.retry_after_ms) : undefined
        return (await queue.fail(this.leasedItem(args), args.error, retryAfter)).outcome
      }
      case 'release':
        return await queue.release(this.leasedItem(args))
      case 'dead_len':
        return await queue.deadLen()
      case 'dead_items':
        return (await queue.deadItems(args.offset, args.count)).map(deadJson)
      case 'requeue_dead':
        return await queue.requeueDead(args.ids)
      case 'purge_dead':
        return await queue.purgeDead(args.ids)
      case 'requeue_all_dead':
        return await queue.requeueAllDead()
      case 'purge_all_dead':
        return await queue.purgeAllDead()
      case 'pause':
        await queue.pause()
        return null
      case 'resume':
        return await queue.resume()
      case 'is_paused':
        return await queue.isPaused()
      case 'prioritized_len':
        return await queue.prioritizedLen()
      case 'delayed_len':
        return await queue.delayedLen()
      case 'run_worker':
        return await runWorker(queue, args)
      default:
        throw new Harness(`unknown op ${JSON.stringify(step.op)}`)
    }
  }
}

async function runCase(caseLine) {
  let connection
  try {
    connection = await Connection.open(caseLine.url)
  } catch (err) {
    return { fatal: `cannot open ${caseLine.url}: ${err}` }
  }
  let options
  try {
    options = queueOptions(caseLine.queue_options)
  } catch (err) {
    connection.close()
    return { fatal: `cannot read queue_options: ${err}` }
  }
  const run = new CaseRun(connection, caseLine.prefix, options)
  const results = []
  for (const step of caseLine.steps) {
    const started = process.hrtime.bigint()
    let result
    try {
      result = { ok: await run.step(step) }
    } catch (err) {
      result = { error: kindOf(err), message: String(err && err.message !== undefined ? err.message : err) }
    }
    result.ms = Number(process.hrtime.bigint() - started) / 1e6
    results.push(result)
  }
  connection.close()
  return { results }
}

async function main() {
  const lines = readline.createInterface({ input: process.stdin, crlfDelay: Infinity })
  for await (const line of lines) {
    if (!line.trim()) continue
    let reply
    try {
      reply = await runCase(JSON.parse(line))
    } catch (err) {
      reply = { fatal: `cannot run the case line: ${err}` }
    }
    process.stdout.write(JSON.stringify(reply) + '\n')
  }
}

main().catch((err) => {
  console.error(err)
  process.exit(1)
})
