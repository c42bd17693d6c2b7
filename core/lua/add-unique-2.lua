--[[ Add one item whose id the caller knows to be new (no existence check).
  KEYS[1] queue list (<prefix>:queue)
  KEYS[2] item data key (<prefix>:item:<id>)
  ARGV[1] item id
  ARGV[2] item data (bytes)
  Returns: 1.
  If the id did exist, its data is overwritten and the id is queued a second time: that is the
  caller's promise to keep, as with redis-work-queue's add_unique_item. ]]
-- Refuse keys of the wrong type before writing anything: Redis does not undo the writes a
-- script made before an error.
local function wrong_type(key, kind)
  local found = redis.call('TYPE', key).ok
  if found ~= 'none' and found ~= kind then
    return redis.error_reply('WRONGTYPE ' .. key .. ' holds a ' .. found .. ', not a ' .. kind)
  end
end
local refused = wrong_type(KEYS[1], 'list')
if refused then
  return refused
end
refused = wrong_type(KEYS[2], 'string')
if refused then
  return refused
end
redis.call('SET', KEYS[2], ARGV[2])
redis.call('LPUSH', KEYS[1], ARGV[1])
return 1
