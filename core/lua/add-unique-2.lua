--[[ Add one item whose id the caller knows to be new (no existence check).
  KEYS[1] queue list (<prefix>:queue)
  KEYS[2] item data key (<prefix>:item:<id>)
  ARGV[1] item id
  ARGV[2] item data (bytes)
  Returns: 1.
  If the id did exist, its data is overwritten and the id is queued a second time: that is the
  caller's promise to keep, as with redis-work-queue's add_unique_item. ]]
-- lib/wrong-types.lua: refuse keys of the wrong type before writing anything.
local refused = wrong_types({KEYS[1], 'list', KEYS[2], 'string'})
if refused then
  return refused
end
redis.call('SET', KEYS[2], ARGV[2])
redis.call('LPUSH', KEYS[1], ARGV[1])
return 1
