--[[ Extend a lease, only while the calling session still holds it.
  KEYS[1] lease key (<prefix>:lease:<id>)
  KEYS[2] lease deadlines, zset scored by expiry in ms (<prefix>:deadlines)
  ARGV[1] session id of the caller
  ARGV[2] new lease duration from now (milliseconds, > 0)
  ARGV[3] item id
  Returns: 1 when the lease was extended, 0 when it had expired, was completed, or belongs to
  another session (then nothing changed). ]]
-- lib/wrong-types.lua: refuse keys of the wrong type before writing anything (GET checks the
-- lease key itself).
local refused = wrong_types({KEYS[2], 'zset'})
if refused then
  return refused
end
if redis.call('GET', KEYS[1]) == ARGV[1] then
  local time = redis.call('TIME')
  local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  redis.call('ZADD', KEYS[2], string.format('%d', now + tonumber(ARGV[2])), ARGV[3])
  return 1
end
return 0
