--[[ Lease the next due item of the highest priority, after bounded housekeeping.
  KEYS[1]  queue list, the default priority (<prefix>:queue)
  KEYS[2]  processing list (<prefix>:processing)
  KEYS[3]  lease key prefix (<prefix>:lease:)
  KEYS[4]  item key prefix (<prefix>:item:)
  KEYS[5]  prioritized ids, zset scored by level then time (<prefix>:prioritized)
  KEYS[6]  delayed ids, zset scored by due time in ms (<prefix>:delayed)
  KEYS[7]  lease deadlines, zset scored by expiry in ms (<prefix>:deadlines)
  KEYS[8]  attempts per id, hash (<prefix>:attempts)
  KEYS[9]  priority level per id, hash (<prefix>:priority)
  KEYS[10] paused flag (<prefix>:paused)
  KEYS[11] dead letters, zset scored by time of death in ms (<prefix>:dead)
  KEYS[12] last error per id, hash (<prefix>:errors)
  KEYS[13] wake-up flag, a list of at most one element that lives 2 s (<prefix>:signal)
  KEYS[14] the last fencing token handed out, a counter never reset (<prefix>:last_fence)
  KEYS[15] fencing token of each id's latest delivery, hash (<prefix>:fences)
  ARGV[1] lease duration (milliseconds, > 0)
  ARGV[2] session id of the leasing worker
  ARGV[3] maximum attempts (an item leased this many times and not completed is dead)
  ARGV[4] 1 to record the token in KEYS[15] for the fencing checks (the queue's fencing option),
          0 not to (one command less per job)
  ARGV[5] the most items to lease in this call (1 to 1000; absent: 1): a batch pays the script's
          fixed cost (its keys, the time, the housekeeping reads) once
  Returns: {1, id, data, attempt, fence, id, data, attempt, fence, ...} with one to ARGV[5] items
  when something was leased (attempt counts from 1; fence is that delivery's token, larger than
  every token the queue handed out before), or {0, wait_ms, paused}: wait_ms is how long until the
  next delayed item is due (-1: none).
  A key of the wrong type fails the call with nothing written: reads check the keys the fast path
  writes (RPOPLPUSH and ZPOPMIN check their own keys; a failed LPUSH or HINCRBY right after a pop
  puts the id back exactly where it was), and lib/wrong-types.lua checks every key before the
  slower paths write (housekeeping, dropping, burying). An item key that is not a string (a
  poison id: its data cannot be read) is moved to the dead letters with an error naming the key
  and its type, and the next id is leased: one stray key never wedges the queue.
  Housekeeping first, at most 10 expired leases and 100 due items per call: an expired lease
  counts as a failed attempt (requeued, or dead at the maximum, or dead as a poison item when its
  attempt count is not an integer), due delayed items join their level (a level that is not 1-9
  counts as 0). All times are Redis server time, so client clocks do not matter. ]]
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
local max_attempts = tonumber(ARGV[3])

-- Higher levels sort first; within a level, older first. Formatted by hand because Lua's
-- default number format would round a 14-digit score.
local function score(level)
  return string.format('%d', (10 - level) * 10000000000000 + now)
end

-- A level that is not 1-9 (a hand-written value) is the default level, 0: this parse cannot
-- fail (HGET of a hash checked by validate(), then a match), so it may follow the writes.
local function requeue(id)
  local level = tonumber(string.match(redis.call('HGET', KEYS[9], id) or '', '^[1-9]$') or '0')
  if level > 0 then
    redis.call('ZADD', KEYS[5], score(level), id)
  else
    redis.call('LPUSH', KEYS[1], id)
  end
end

-- Both reads check their key's type before anything is written.
local expired = redis.call('ZRANGEBYSCORE', KEYS[7], '-inf', now, 'LIMIT', 0, 10)
local due = redis.call('ZRANGEBYSCORE', KEYS[6], '-inf', now, 'LIMIT', 0, 100)

-- lib/wrong-types.lua over every key a slow path writes; run at most once per call.
local validated = false
local function validate()
  if validated then
    return nil
  end
  validated = true
  local refused = wrong_types({KEYS[1], 'list', KEYS[2], 'list', KEYS[5], 'zset', KEYS[8], 'hash',
    KEYS[9], 'hash', KEYS[11], 'zset', KEYS[12], 'hash', KEYS[14], 'string', KEYS[15], 'hash'})
  if refused then
    return refused
  end
  -- The fast path's INCR would fail on a counter that is not an integer, after housekeeping.
  local last_fence = redis.call('GET', KEYS[14])
  if last_fence and not string.match(last_fence, '^%d+$') then
    return redis.error_reply('ERR ' .. KEYS[14] .. ' holds ' .. string.format('%q', last_fence)
      .. ', not the integer counter leaseq keeps there; nothing was leased (fix or delete the key)')
  end
end
if #expired > 0 or #due > 0 then
  local refused = validate()
  if refused then
    return refused
  end
end

-- Self-healing: leases this schema generation took and that have expired.
for _, id in ipairs(expired) do
  -- Redis expires a key only after its time, so a lease due this millisecond may still be live:
  -- push its deadline on rather than dropping it (it would then be stranded in processing).
  local ttl = redis.call('PTTL', KEYS[3] .. id)
  if ttl >= 0 then
    redis.call('ZADD', KEYS[7], string.format('%d', now + math.max(ttl, 1)), id)
  else
    -- Read before the first write (lib/attempt-count.lua).
    local count = redis.call('HGET', KEYS[8], id) or '0'
    local attempts = attempt_count(count)
    if redis.call('ZREM', KEYS[7], id) == 1
        and redis.call('LREM', KEYS[2], -1, id) > 0
        and redis.call('EXISTS', KEYS[4] .. id) == 1 then
      if not attempts then
        redis.call('ZADD', KEYS[11], string.format('%d', now), id)
        redis.call('HSET', KEYS[12], id, poison_count(KEYS[8], id, count))
      elseif attempts >= max_attempts then
        redis.call('ZADD', KEYS[11], string.format('%d', now), id)
        redis.call('HSET', KEYS[12], id, 'lease expired')
      else
        requeue(id)
      end
    end
  end
end

for _, id in ipairs(due) do
  redis.call('ZREM', KEYS[6], id)
  requeue(id)
end

local function wait_ms()
  local next_due = redis.call('ZRANGE', KEYS[6], 0, 0, 'WITHSCORES')
  if next_due[2] then
    return math.max(1, tonumber(next_due[2]) - now)
  end
  return -1
end

-- Nothing to lease from here on clears the wake-up flag, in the same script that saw nothing,
-- so a wake-up raised after this call is never missed.
if redis.call('EXISTS', KEYS[10]) == 1 then
  redis.call('DEL', KEYS[13])
  return {0, wait_ms(), 1}
end

local wanted = tonumber(ARGV[5] or '1')
-- Every leased item as id, data, attempt, fence: the reply once the batch is full or the queue
-- has no more.
local leased = {1}
-- At most 100 ids that give no item (dangling or poison) are dropped per call, whatever the
-- batch size, so one call never runs long.
local dropped = 0
while dropped < 100 do
  local id, popped_score
  local top = redis.call('ZPOPMIN', KEYS[5])
  if top[1] then
    id, popped_score = top[1], top[2]
    local pushed = redis.pcall('LPUSH', KEYS[2], id)
    if type(pushed) == 'table' then
      redis.call('ZADD', KEYS[5], popped_score, id)
      return pushed
    end
  else
    id = redis.call('RPOPLPUSH', KEYS[1], KEYS[2])
  end
  if not id then
    redis.call('DEL', KEYS[13])
    if #leased > 1 then
      return leased
    end
    return {0, wait_ms(), 0}
  end
  -- No closures on this path (each costs every call): the replies are tested inline. GET gives a
  -- string, false (no key) or an error table; HINCRBY a number or an error table.
  local data = redis.pcall('GET', KEYS[4] .. id)
  local attempt
  if data and type(data) == 'string' then
    attempt = redis.pcall('HINCRBY', KEYS[8], id, 1)
  end
  local refused
  local took = false
  if type(attempt) == 'number' then
    -- The fencing token: both writes are checked by their own replies, and the first is undone
    -- if the second fails (DECR restores the counter exactly, nothing else runs inside a script;
    -- a counter INCR created is deleted again).
    local fence = redis.pcall('INCR', KEYS[14])
    if type(fence) == 'number' then
      local recorded = ARGV[4] == '1' and redis.pcall('HSET', KEYS[15], id, fence) or 0
      if type(recorded) == 'number' then
        redis.call('SET', KEYS[3] .. id, ARGV[2], 'PX', ARGV[1])
        redis.call('ZADD', KEYS[7], string.format('%d', now + tonumber(ARGV[1])), id)
        leased[#leased + 1] = id
        leased[#leased + 1] = data
        leased[#leased + 1] = attempt
        leased[#leased + 1] = fence
        if #leased > wanted * 4 then
          return leased
        end
        took = true
      else
        if fence == 1 then
          redis.call('DEL', KEYS[14])
        else
          redis.call('DECR', KEYS[14])
        end
        fence = recorded
      end
    end
    if not took then
      -- A fencing key holds something leaseq did not write: give the attempt back, then put
      -- the id back below and fail with the key named.
      if attempt <= 1 then
        redis.call('HDEL', KEYS[8], id)
      else
        redis.call('HINCRBY', KEYS[8], id, -1)
      end
      refused = redis.error_reply('ERR ' .. KEYS[14] .. ' (an integer counter) or ' .. KEYS[15]
        .. ' (a hash) holds something leaseq did not write: ' .. fence.err
        .. '; nothing was leased (fix or delete the key)')
    end
  else
    refused = validate()
  end
  if refused then
    -- Put the popped id back exactly where it was (its old score, or the tail it came from).
    redis.call('LREM', KEYS[2], 1, id)
    if popped_score then
      redis.call('ZADD', KEYS[5], popped_score, id)
    else
      redis.call('RPUSH', KEYS[1], id)
    end
    -- Items this call already leased are handed out; the next call meets the error.
    if #leased > 1 then
      return leased
    end
    return refused
  end
  if not took then
    -- The id was pushed at the head just above, so this LREM stops after one element.
    redis.call('LREM', KEYS[2], 1, id)
    dropped = dropped + 1
    local bad_data = type(data) == 'table'
    if bad_data or type(attempt) == 'table' then
      -- A poison id: its item key is not a string, or its attempt count is not a number.
      local why
      if bad_data then
        why = 'poison item: its key ' .. KEYS[4] .. id .. ' holds a ' .. redis.call('TYPE', KEYS[4] .. id).ok
          .. ', not a string, so it cannot be read as item data; it was not written by leaseq or'
          .. ' redis-work-queue (fix or delete the key, then requeue or purge this dead letter)'
      else
        why = poison_count(KEYS[8], id, redis.call('HGET', KEYS[8], id) or '')
      end
      redis.call('ZADD', KEYS[11], string.format('%d', now), id)
      redis.call('HSET', KEYS[12], id, why)
    end
  end
end
if #leased > 1 then
  return leased
end
return {0, 0, 0}
