--[[ Give a leased item back at once, as if it had not been leased: the attempt is not counted
  and it goes to the front of its level. A worker shutting down uses it for jobs it will not
  finish.
  KEYS[1] item data key (<prefix>:item:<id>)
  KEYS[2] processing list (<prefix>:processing)
  KEYS[3] lease key (<prefix>:lease:<id>)
  KEYS[4] lease deadlines (<prefix>:deadlines)
  KEYS[5] attempts per id (<prefix>:attempts)
  KEYS[6] queue list, the default priority (<prefix>:queue)
  KEYS[7] priority level per id (<prefix>:priority)
  KEYS[8] prioritized ids (<prefix>:prioritized)
  KEYS[9] wake-up flag for blocked leases (<prefix>:signal)
  KEYS[10] fencing token of each id's latest delivery (<prefix>:fences)
  ARGV[1] item id
  ARGV[2] session id of the caller
  ARGV[3] the caller's fencing token, or 0 not to check it
  Returns: 1 when the item went back, 0 when the caller no longer held it (nothing changed), -1
  when ARGV[3] is a token and the item was leased again since (nothing changed), or
  an error reply ("poison item …"), nothing changed, when its attempt count is not an integer. ]]
local id = ARGV[1]
-- lib/wrong-types.lua: refuse keys of the wrong type before writing anything.
local refused = wrong_types({KEYS[1], 'string', KEYS[2], 'list', KEYS[3], 'string', KEYS[4], 'zset',
  KEYS[5], 'hash', KEYS[6], 'list', KEYS[7], 'hash', KEYS[8], 'zset', KEYS[9], 'list',
  KEYS[10], 'hash'})
if refused then
  return refused
end
if ARGV[3] ~= '0' then
  local latest = redis.call('HGET', KEYS[10], id)
  if latest and latest ~= ARGV[3] then
    return -1
  end
end
if redis.call('EXISTS', KEYS[1]) == 0 or redis.call('GET', KEYS[3]) ~= ARGV[2] then
  return 0
end
-- Read before the first write (lib/attempt-count.lua). A count that is not one cannot be given
-- back: the call is refused with nothing written, the item stays leased, and fail, complete or
-- its lease running out (a poison item, buried) ends it.
local count = redis.call('HGET', KEYS[5], id) or '0'
if not attempt_count(count) then
  return redis.error_reply('ERR poison item ' .. id .. ': ' .. unreadable_count(KEYS[5], id, count)
    .. ', so release cannot give the attempt back; nothing was changed (fail or complete the'
    .. ' item, or fix or delete that field: leaseq writes only small integers there)')
end
if redis.call('LREM', KEYS[2], -1, id) == 0 then
  return 0
end
redis.call('DEL', KEYS[3])
redis.call('ZREM', KEYS[4], id)
if tonumber(count) <= 1 then
  redis.call('HDEL', KEYS[5], id)
else
  redis.call('HSET', KEYS[5], id, string.format('%d', tonumber(count) - 1))
end
-- A level that is not 1-9 (a hand-written value) is the default level, 0: this parse cannot fail
-- (HGET of a hash checked above, then a match), so it may follow the writes.
local level = tonumber(string.match(redis.call('HGET', KEYS[7], id) or '', '^[1-9]$') or '0')
if level > 0 then
  -- The lowest score of its level puts it first in line there.
  redis.call('ZADD', KEYS[8], string.format('%d', (10 - level) * 10000000000000), id)
  redis.call('LPUSH', KEYS[9], 1)
  redis.call('LTRIM', KEYS[9], 0, 0)
  redis.call('PEXPIRE', KEYS[9], 2000)
else
  redis.call('RPUSH', KEYS[6], id)
end
return 1
