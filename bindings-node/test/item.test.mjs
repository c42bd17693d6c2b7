// Item: data conversion (Buffer or UTF-8 string), ids, and JSON. No Redis needed.
import assert from 'node:assert/strict'
import { test } from 'node:test'

import { ErrorCode, Item } from 'leaseq'

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/

test('new Item(buffer) keeps the bytes and makes a random UUID', () => {
  const bytes = Buffer.from([0, 1, 127, 128, 255])
  const item = new Item(bytes)
  assert.match(item.id, UUID)
  assert.notEqual(new Item(bytes).id, item.id)
  assert.ok(Buffer.isBuffer(item.data))
  assert.deepEqual(item.data, bytes)
})

test('a string is stored as UTF-8', () => {
  const item = new Item('héllo ✓ 🚀')
  assert.deepEqual(item.data, Buffer.from('héllo ✓ 🚀', 'utf8'))
  assert.equal(item.data.toString('utf8'), 'héllo ✓ 🚀')
})

test('a Uint8Array is accepted as bytes', () => {
  const item = new Item(new Uint8Array([9, 8, 7]))
  assert.deepEqual([...item.data], [9, 8, 7])
})

test('empty data is allowed', () => {
  assert.equal(new Item('').data.length, 0)
  assert.equal(new Item(Buffer.alloc(0)).data.length, 0)
})

test('an explicit id is kept; undefined or null make a random one', () => {
  assert.equal(new Item('x', 'job-17').id, 'job-17')
  assert.match(new Item('x', undefined).id, UUID)
  assert.match(new Item('x', null).id, UUID)
})

test('data is a copy: changing it does not change the item', () => {
  const source = Buffer.from('abc')
  const item = new Item(source)
  source[0] = 0x7a
  const read = item.data
  read[1] = 0x7a
  assert.equal(item.data.toString(), 'abc')
})

test('Item.fromJson and item.json() round-trip a value', () => {
  const value = { name: 'resize', size: [640, 480], ok: true, nothing: null, text: 'é' }
  const item = Item.fromJson(value)
  assert.match(item.id, UUID)
  assert.deepEqual(JSON.parse(item.data.toString()), value)
  assert.deepEqual(item.json(), value)
  assert.equal(Item.fromJson('just a string').json(), 'just a string')
  assert.equal(Item.fromJson(42).json(), 42)
})

test('json() reads data written as a JSON string', () => {
  assert.deepEqual(new Item('{"a":[1,2]}').json(), { a: [1, 2] })
})

test('json() on data that is not JSON throws EINVAL', () => {
  assert.throws(
    () => new Item('not json').json(),
    (err) => err instanceof Error && err.code === ErrorCode.InvalidArgument && /json/.test(err.message),
  )
})
