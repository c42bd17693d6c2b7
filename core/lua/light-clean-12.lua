--[[ One bounded step of a light clean: requeue expired leases (or bury them at their last
  attempt, or when their attempt count is not an integer: a poison item), drop dangling ids.
  KEYS[1]  processing list (<prefix>:processing)
  KEYS[2]  queue list (<prefix>:queue)
  KEYS[3]  lease key prefix (<prefix>:lease:)
  KEYS[4]  old-generation lease key prefix (<prefix>:leased_by_session:)
  KEYS[5]  item key prefix (<prefix>:item:)
  KEYS[6]  lease deadlines (<prefix>:deadlines)
  KEYS[7]  attempts per id (<prefix>:attempts)
  KEYS[8]  last error per id (<prefix>:errors)
  KEYS[9]  dead letters (<prefix>:dead)
  KEYS[10] priority level per id (<prefix>:priority)
  KEYS[11] prioritized ids (<prefix>:prioritized)
  KEYS[12] wake-up flag for blocked leases (<prefix>:signal)
  ARGV[1] offset from the tail of processing where this step starts (0 = the oldest lease)
  ARGV[2] batch size (ids examined by this step)
  ARGV[3] maximum attempts
  ARGV[4..n] (second sighting) ids this cleaner saw as suspects at least the grace period ago:
  these are examined instead of a batch of processing, and each one still in processing without
  a lease is reclaimed
  Returns: {requeued, dropped, next_offset, done, dead, suspect ids...}; done is 1 when the step
  reached the head.
  Leases are pushed at the head, so the tail holds the oldest; walking from the tail with
  negative indexes is stable while new leases arrive. A lease under either key generation counts
  as live, so workers of PyPI redis-work-queue 0.1.5 are never robbed.
  Grace: an id without a lease whose deadline this schema generation recorded has a lease that
  expired, and is reclaimed at once. Any other id without a lease (a redis-work-queue client
  pops the id and writes its lease in a second command) is only a suspect: it is returned and
  left alone, and the caller examines it again once the grace period has passed. ]]
local offset = tonumber(ARGV[1])
local batch = tonumber(ARGV[2])
local max_attempts = tonumber(ARGV[3])
-- lib/wrong-types.lua: refuse keys of the wrong type before writing anything.
local refused = wrong_types({KEYS[1], 'list', KEYS[2], 'list', KEYS[6], 'zset', KEYS[7], 'hash',
  KEYS[8], 'hash', KEYS[9], 'zset', KEYS[10], 'hash', KEYS[11], 'zset', KEYS[12], 'list'})
if refused then
  return refused
end
local second_sighting = #ARGV > 3
local ids
if second_sighting then
  ids = {}
  for i = #ARGV, 4, -1 do
    ids[#ids + 1] = ARGV[i]
  end
else
  ids = redis.call('LRANGE', KEYS[1], -(offset + batch), -(offset + 1))
end
local suspects = {}
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
local requeued, dropped, kept, dead = 0, 0, 0, 0
for i = #ids, 1, -1 do
  local id = ids[i]
  if redis.call('EXISTS', KEYS[3] .. id, KEYS[4] .. id) > 0 then
    kept = kept + 1
  elseif redis.call('EXISTS', KEYS[5] .. id) == 0 then
    dropped = dropped + redis.call('LREM', KEYS[1], -1, id)
    redis.call('ZREM', KEYS[6], id)
  elseif not second_sighting and not redis.call('ZSCORE', KEYS[6], id) then
    suspects[#suspects + 1] = id
  else
    -- Read before the first write (lib/attempt-count.lua).
    local count = redis.call('HGET', KEYS[7], id) or '0'
    local attempts = attempt_count(count)
    if redis.call('LREM', KEYS[1], -1, id) > 0 then
      redis.call('ZREM', KEYS[6], id)
      if not attempts then
        redis.call('ZADD', KEYS[9], string.format('%d', now), id)
        redis.call('HSET', KEYS[8], id, poison_count(KEYS[7], id, count))
        dead = dead + 1
      elseif attempts >= max_attempts then
        redis.call('ZADD', KEYS[9], string.format('%d', now), id)
        redis.call('HSET', KEYS[8], id, 'lease expired')
        dead = dead + 1
      else
        -- A level that is not 1-9 (a hand-written value) is the default level, 0: this parse
        -- cannot fail (HGET of a hash checked above, then a match), so it may follow the writes.
        local level = tonumber(string.match(redis.call('HGET', KEYS[10], id) or '', '^[1-9]$')
          or '0')
        if level > 0 then
          redis.call('ZADD', KEYS[11], string.format('%d', (10 - level) * 10000000000000 + now),
            id)
          redis.call('LPUSH', KEYS[12], 1)
          redis.call('LTRIM', KEYS[12], 0, 0)
          redis.call('PEXPIRE', KEYS[12], 2000)
        else
          redis.call('LPUSH', KEYS[2], id)
        end
        requeued = requeued + 1
      end
    end
  end
end
local done = 0
if second_sighting or #ids < batch then
  done = 1
end
local reply = {requeued, dropped, offset + kept + #suspects, done, dead}
for _, id in ipairs(suspects) do
  reply[#reply + 1] = id
end
return reply
