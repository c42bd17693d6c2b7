--[[ End a lease with a failure: retry the item after a backoff, or, at its last attempt, move it
  to the dead letters with its error.
  KEYS[1]  item data key (<prefix>:item:<id>)
  KEYS[2]  processing list (<prefix>:processing)
  KEYS[3]  lease key (<prefix>:lease:<id>)
  KEYS[4]  lease deadlines (<prefix>:deadlines)
  KEYS[5]  attempts per id (<prefix>:attempts)
  KEYS[6]  last error per id (<prefix>:errors)
  KEYS[7]  dead letters, zset scored by time of death in ms (<prefix>:dead)
  KEYS[8]  delayed ids, zset scored by due time in ms (<prefix>:delayed)
  KEYS[9]  priority level per id (<prefix>:priority)
  KEYS[10] prioritized ids (<prefix>:prioritized)
  KEYS[11] wake-up flag for blocked leases (<prefix>:signal)
  KEYS[12] queue list, the default priority (<prefix>:queue)
  KEYS[13] fencing token of each id's latest delivery (<prefix>:fences)
  KEYS[14] per-minute counters, hash (<prefix>:stats)
  ARGV[1] item id
  ARGV[2] session id of the caller
  ARGV[3] error text to keep with the item
  ARGV[4] maximum attempts
  ARGV[5] retry delay in ms chosen by the caller, or -1 for the backoff below
  ARGV[6] backoff base (ms)   ARGV[7] backoff cap (ms)
  ARGV[8] jitter draw in [0, 1) from the caller (Redis scripts have no usable randomness)
  ARGV[9] the caller's fencing token, or 0 not to check it
  An attempt count that is not an integer makes the item a poison item: it is dead at once, its
  error saying so (and keeping the caller's text), and the reply is {2, 0}.
  Returns: {1, due_ms} retry scheduled at due_ms (server time); {2, attempts} now dead;
  {0, 0} the item no longer exists (already completed); {-1, 0} the caller's lease is lost
  (another session holds it, or it was requeued, or ARGV[9] is a token and the item was leased
  again since). The retried or dead-lettered counter of the current minute goes up by one.
  Backoff: min(cap, base * 2^(attempts-1)), then "equal jitter": half of it fixed, half random. ]]
-- lib/wrong-types.lua: refuse keys of the wrong type before writing anything.
local refused = wrong_types({KEYS[1], 'string', KEYS[2], 'list', KEYS[4], 'zset', KEYS[5], 'hash',
  KEYS[6], 'hash', KEYS[7], 'zset', KEYS[8], 'zset', KEYS[9], 'hash', KEYS[10], 'zset',
  KEYS[11], 'list', KEYS[12], 'list', KEYS[13], 'hash'})
if refused then
  return refused
end
local id = ARGV[1]
if redis.call('EXISTS', KEYS[1]) == 0 then
  return {0, 0}
end
if ARGV[9] ~= '0' then
  local latest = redis.call('HGET', KEYS[13], id)
  if latest and latest ~= ARGV[9] then
    return {-1, 0}
  end
end
local holder = redis.call('GET', KEYS[3])
if holder and holder ~= ARGV[2] then
  return {-1, 0}
end
-- Read before the first write (lib/attempt-count.lua); a count that is not one is buried below.
local count = redis.call('HGET', KEYS[5], id) or '0'
local attempts = attempt_count(count)
if redis.call('LREM', KEYS[2], -1, id) == 0 then
  return {-1, 0}
end
redis.call('DEL', KEYS[3])
redis.call('ZREM', KEYS[4], id)
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
-- The counters: best effort, one command (a stats key of another type is skipped).
local function count_as(kind)
  redis.pcall('HINCRBY', KEYS[14], math.floor(now / 60000) .. ':' .. kind, 1)
end
if not attempts then
  count_as('d')
  redis.call('HSET', KEYS[6], id,
    poison_count(KEYS[5], id, count) .. '; the failure reported: ' .. ARGV[3])
  redis.call('ZADD', KEYS[7], string.format('%d', now), id)
  return {2, 0}
end
redis.call('HSET', KEYS[6], id, ARGV[3])
if attempts >= tonumber(ARGV[4]) then
  redis.call('ZADD', KEYS[7], string.format('%d', now), id)
  count_as('d')
  return {2, attempts}
end
count_as('r')
local delay = tonumber(ARGV[5])
if delay < 0 then
  local backoff = math.min(tonumber(ARGV[7]), tonumber(ARGV[6]) * 2 ^ math.max(0, attempts - 1))
  delay = math.floor(backoff / 2 + backoff / 2 * tonumber(ARGV[8]))
end
if delay > 0 then
  redis.call('ZADD', KEYS[8], string.format('%d', now + delay), id)
else
  -- A level that is not 1-9 (a hand-written value) is the default level, 0: this parse cannot
  -- fail (HGET of a hash checked above, then a match), so it may follow the writes.
  local level = tonumber(string.match(redis.call('HGET', KEYS[9], id) or '', '^[1-9]$') or '0')
  if level > 0 then
    redis.call('ZADD', KEYS[10], string.format('%d', (10 - level) * 10000000000000 + now), id)
  else
    redis.call('LPUSH', KEYS[12], id)
  end
end
redis.call('LPUSH', KEYS[11], 1)
redis.call('LTRIM', KEYS[11], 0, 0)
redis.call('PEXPIRE', KEYS[11], 2000)
return {1, now + delay}
