--[[ Extend a lease, only while the calling session still holds it.
  KEYS[1] lease key (<prefix>:lease:<id>)
  KEYS[2] lease deadlines, zset scored by expiry in ms (<prefix>:deadlines)
  KEYS[3] fencing token of each id's latest delivery (<prefix>:fences)
  ARGV[1] session id of the caller
  ARGV[2] new lease duration from now (milliseconds, > 0)
  ARGV[3] item id
  ARGV[4] the caller's fencing token, or 0 not to check it
  Returns: 1 when the lease was extended, 0 when it had expired, was completed, or belongs to
  another session, -1 when ARGV[4] is a token and the item was leased again since (then nothing
  changed). ]]
-- lib/wrong-types.lua: refuse keys of the wrong type before writing anything (GET checks the
-- lease key itself).
local refused = wrong_types({KEYS[2], 'zset', KEYS[3], 'hash'})
if refused then
  return refused
end
if ARGV[4] ~= '0' then
  local latest = redis.call('HGET', KEYS[3], ARGV[3])
  if latest and latest ~= ARGV[4] then
    return -1
  end
end
if redis.call('GET', KEYS[1]) == ARGV[1] then
  local time = redis.call('TIME')
  local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  redis.call('ZADD', KEYS[2], string.format('%d', now + tonumber(ARGV[2])), ARGV[3])
  return 1
end
return 0
