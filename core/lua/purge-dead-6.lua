--[[ Delete dead items for good: their data, attempts, error, priority and fencing token.
  KEYS[1] dead letters (<prefix>:dead)
  KEYS[2] item key prefix (<prefix>:item:)
  KEYS[3] attempts per id (<prefix>:attempts)
  KEYS[4] last error per id (<prefix>:errors)
  KEYS[5] priority level per id (<prefix>:priority)
  KEYS[6] fencing token of each id's latest delivery (<prefix>:fences)
  ARGV[1..n] ids (at most 1000)
  Returns: how many dead items were deleted. ]]
-- lib/wrong-types.lua: refuse keys of the wrong type before writing anything. Item keys are
-- deleted whatever their type (a poison item's key is not a string).
local refused = wrong_types({KEYS[1], 'zset', KEYS[3], 'hash', KEYS[4], 'hash', KEYS[5], 'hash',
  KEYS[6], 'hash'})
if refused then
  return refused
end
local purged = 0
for _, id in ipairs(ARGV) do
  if redis.call('ZREM', KEYS[1], id) == 1 then
    redis.call('DEL', KEYS[2] .. id)
    redis.call('HDEL', KEYS[3], id)
    redis.call('HDEL', KEYS[4], id)
    redis.call('HDEL', KEYS[5], id)
    redis.call('HDEL', KEYS[6], id)
    purged = purged + 1
  end
end
return purged
