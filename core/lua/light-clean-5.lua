--[[ One bounded step of a light clean: requeue expired leases, drop dangling ids.
  KEYS[1] processing list (<prefix>:processing)
  KEYS[2] queue list (<prefix>:queue)
  KEYS[3] lease key prefix (<prefix>:lease:)
  KEYS[4] old-generation lease key prefix (<prefix>:leased_by_session:)
  KEYS[5] item key prefix (<prefix>:item:)
  ARGV[1] offset from the tail of processing where this step starts (0 = the oldest lease)
  ARGV[2] batch size (ids examined by this step)
  Returns: {requeued, dropped, next_offset, done}; done is 1 when the step reached the head.
  Leases are pushed at the head, so the tail holds the oldest; walking from the tail with
  negative indexes is stable while new leases arrive. A lease under either key generation counts
  as live, so workers of PyPI redis-work-queue 0.1.5 are never robbed. ]]
local offset = tonumber(ARGV[1])
local batch = tonumber(ARGV[2])
local ids = redis.call('LRANGE', KEYS[1], -(offset + batch), -(offset + 1))
local requeued, dropped, kept = 0, 0, 0
for i = #ids, 1, -1 do
  local id = ids[i]
  if redis.call('EXISTS', KEYS[3] .. id, KEYS[4] .. id) > 0 then
    kept = kept + 1
  elseif redis.call('EXISTS', KEYS[5] .. id) == 0 then
    dropped = dropped + redis.call('LREM', KEYS[1], -1, id)
  else
    if redis.call('LREM', KEYS[1], -1, id) > 0 then
      redis.call('LPUSH', KEYS[2], id)
      requeued = requeued + 1
    end
  end
end
local done = 0
if #ids < batch then
  done = 1
end
return {requeued, dropped, offset + kept, done}
