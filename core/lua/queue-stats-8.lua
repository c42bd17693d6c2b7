--[[ Read one queue's counts and recent throughput (read-only, bounded: O(log n) per count).
  KEYS[1] queue list (<prefix>:queue)         KEYS[2] processing list (<prefix>:processing)
  KEYS[3] delayed zset (<prefix>:delayed)     KEYS[4] dead letters (<prefix>:dead)
  KEYS[5] pause flag (<prefix>:paused)        KEYS[6] prioritized zset (<prefix>:prioritized)
  KEYS[7] item key prefix (<prefix>:item:)    KEYS[8] per-minute counters (<prefix>:stats)
  ARGV[1] minutes of throughput to return (1-180), the current minute last
  Returns: {queued (default level), processing, delayed, dead, paused (0/1),
            queued at levels 1..9 (9 numbers), oldest prioritized add time (ms, -1 if none),
            idle seconds of the next plain-queued item's data (-1 if unknown), now (ms),
            current minute (ms / 60000), then per minute (oldest first): completed, retried, dead} ]]
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
local minute = math.floor(now / 60000)
local out = {
  redis.call('LLEN', KEYS[1]), redis.call('LLEN', KEYS[2]), redis.call('ZCARD', KEYS[3]),
  redis.call('ZCARD', KEYS[4]), redis.call('EXISTS', KEYS[5])
}
local oldest = -1
for level = 1, 9 do
  local low = (10 - level) * 10000000000000
  local high = low + 10000000000000
  out[#out + 1] = redis.call('ZCOUNT', KEYS[6], low, '(' .. high)
  local first = redis.call('ZRANGE', KEYS[6], low, '(' .. high, 'BYSCORE', 'LIMIT', 0, 1, 'WITHSCORES')
  if first[2] then
    local added = tonumber(first[2]) - low
    if oldest < 0 or added < oldest then oldest = added end
  end
end
out[#out + 1] = oldest
local idle = -1
local next_id = redis.call('LINDEX', KEYS[1], -1)
if next_id then
  local ok, seconds = pcall(redis.call, 'OBJECT', 'IDLETIME', KEYS[7] .. next_id)
  if ok and seconds then idle = seconds end
end
out[#out + 1] = idle
out[#out + 1] = now
out[#out + 1] = minute
local minutes = tonumber(ARGV[1])
local fields = {}
for m = minute - minutes + 1, minute do
  fields[#fields + 1] = m .. ':c'
  fields[#fields + 1] = m .. ':r'
  fields[#fields + 1] = m .. ':d'
end
local values = redis.call('HMGET', KEYS[8], unpack(fields))
for i = 1, #values do out[#out + 1] = tonumber(values[i]) or 0 end
return out
