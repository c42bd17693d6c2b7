--[[ Give dead items another life: back to their level with their attempts reset.
  KEYS[1] dead letters (<prefix>:dead)
  KEYS[2] queue list, the default priority (<prefix>:queue)
  KEYS[3] attempts per id (<prefix>:attempts)
  KEYS[4] priority level per id (<prefix>:priority)
  KEYS[5] prioritized ids (<prefix>:prioritized)
  KEYS[6] wake-up flag for blocked leases (<prefix>:signal)
  ARGV[1..n] ids (at most 1000)
  Returns: how many were dead and are queued again. The last error is kept until completion. ]]
-- lib/wrong-types.lua: refuse keys of the wrong type before writing anything.
local refused = wrong_types({KEYS[1], 'zset', KEYS[2], 'list', KEYS[3], 'hash', KEYS[4], 'hash',
  KEYS[5], 'zset', KEYS[6], 'list'})
if refused then
  return refused
end
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
local requeued = 0
for _, id in ipairs(ARGV) do
  if redis.call('ZREM', KEYS[1], id) == 1 then
    redis.call('HDEL', KEYS[3], id)
    -- A level that is not 1-9 (a hand-written value) is the default level, 0: this parse cannot
    -- fail (HGET of a hash checked above, then a match), so it may follow the writes.
    local level = tonumber(string.match(redis.call('HGET', KEYS[4], id) or '', '^[1-9]$') or '0')
    if level > 0 then
      redis.call('ZADD', KEYS[5], string.format('%d', (10 - level) * 10000000000000 + now), id)
    else
      redis.call('LPUSH', KEYS[2], id)
    end
    requeued = requeued + 1
  end
end
if requeued > 0 then
  redis.call('LPUSH', KEYS[6], 1)
  redis.call('LTRIM', KEYS[6], 0, 0)
  redis.call('PEXPIRE', KEYS[6], 2000)
end
return requeued
