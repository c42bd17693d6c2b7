// CommonJS: require('leaseq') gives the same classes as import, and works end to end.
const assert = require('node:assert/strict')
const { test } = require('node:test')

const leaseq = require('leaseq')

test('require and import give the same exports', async () => {
  const esm = await import('leaseq')
  for (const name of ['Connection', 'WorkQueue', 'Item', 'ErrorCode', 'errorKinds']) {
    assert.ok(leaseq[name], `require('leaseq').${name}`)
    assert.equal(esm[name], leaseq[name], `import { ${name} }`)
  }
  assert.equal(esm.default, leaseq)
})

test('a round trip through require', async (t) => {
  const connection = await leaseq.Connection.open(process.env.LEASEQ_REDIS_URL)
  t.after(() => connection.close())
  const queue = new leaseq.WorkQueue(connection, `leaseq-node-test:require:${process.pid}`)
  await queue.addItem(leaseq.Item.fromJson({ n: 1 }))
  const item = await queue.lease(10, { block: false })
  assert.deepEqual(item.json(), { n: 1 })
  assert.equal(await queue.complete(item), true)
})
