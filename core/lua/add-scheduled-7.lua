--[[ Add one item with a priority level and/or a time before which it is not leased.
  KEYS[1] queue list, the default priority (<prefix>:queue)
  KEYS[2] item data key (<prefix>:item:<id>)
  KEYS[3] recently-completed marker (<prefix>:done:<id>)
  KEYS[4] prioritized ids, zset scored by level then time (<prefix>:prioritized)
  KEYS[5] delayed ids, zset scored by due time in ms (<prefix>:delayed)
  KEYS[6] priority level per id, hash (<prefix>:priority)
  KEYS[7] wake-up flag for blocked leases (<prefix>:signal)
  ARGV[1] item id
  ARGV[2] item data (bytes)
  ARGV[3] priority level, 0 (default) to 9 (leased first)
  ARGV[4] when: 0 = now, 1 = after ARGV[5] ms, 2 = at ARGV[5] ms since the Unix epoch
  ARGV[5] milliseconds, see ARGV[4]
  Returns: 1 when the item was added, 0 when an item with that id exists or was completed within
  the uniqueness window (nothing changed).
  Due times are Redis server time. Raising the wake-up flag makes every blocked lease look again,
  so one waiting for a later item, or for the default list, sees this one. ]]
-- lib/wrong-types.lua: refuse keys of the wrong type before writing anything.
local refused = wrong_types({KEYS[1], 'list', KEYS[2], 'string', KEYS[4], 'zset', KEYS[5], 'zset',
  KEYS[6], 'hash', KEYS[7], 'list'})
if refused then
  return refused
end
if redis.call('EXISTS', KEYS[3]) == 1 or not redis.call('SET', KEYS[2], ARGV[2], 'NX') then
  return 0
end
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
local level = tonumber(ARGV[3])
if level > 0 then
  redis.call('HSET', KEYS[6], ARGV[1], level)
end
local due = now
if ARGV[4] == '1' then
  due = now + tonumber(ARGV[5])
elseif ARGV[4] == '2' then
  due = tonumber(ARGV[5])
end
if due > now then
  redis.call('ZADD', KEYS[5], string.format('%d', due), ARGV[1])
elseif level > 0 then
  redis.call('ZADD', KEYS[4], string.format('%d', (10 - level) * 10000000000000 + now), ARGV[1])
else
  redis.call('LPUSH', KEYS[1], ARGV[1])
end
redis.call('LPUSH', KEYS[7], 1)
redis.call('LTRIM', KEYS[7], 0, 0)
redis.call('PEXPIRE', KEYS[7], 2000)
return 1
