--[[ Complete an item: delete its data, every trace of it, and its lease.
  KEYS[1]  item data key (<prefix>:item:<id>)
  KEYS[2]  processing list (<prefix>:processing)
  KEYS[3]  lease key (<prefix>:lease:<id>)
  KEYS[4]  queue list (<prefix>:queue)
  KEYS[5]  old-generation lease key (<prefix>:leased_by_session:<id>)
  KEYS[6]  lease deadlines (<prefix>:deadlines)
  KEYS[7]  attempts per id (<prefix>:attempts)
  KEYS[8]  last error per id (<prefix>:errors)
  KEYS[9]  priority level per id (<prefix>:priority)
  KEYS[10] prioritized ids (<prefix>:prioritized)
  KEYS[11] delayed ids (<prefix>:delayed)
  KEYS[12] dead letters (<prefix>:dead)
  KEYS[13] recently-completed marker (<prefix>:done:<id>)
  KEYS[14] fencing token of each id's latest delivery (<prefix>:fences)
  KEYS[15] per-minute counters, hash (<prefix>:stats)
  ARGV[1] item id
  ARGV[2] uniqueness window (milliseconds; 0 = none): how long add refuses this id afterwards
  ARGV[3] the caller's fencing token, or 0 not to check it (the queue's fencing option is off,
          or the item did not come from a lease)
  ARGV[4] the current minute (Unix ms / 60000) by the caller's clock, for the counters
  ARGV[5] 1 when the caller's queue has the fencing option (its leases record tokens in KEYS[14],
          which a true complete deletes), else 0 (one command less per job)
  Returns: 1 for the one call that deleted the item's data, 0 for every other call, -1 (nothing
  changed) when ARGV[3] is a token and the item has been leased again since (a newer token).
  The data key decides, as in redis-work-queue 0.3, so exactly one caller ever sees 1.
  If the id was no longer in processing (its lease ran out and a cleaner requeued it), the queued
  copy is removed too: otherwise an old-generation client (PyPI redis-work-queue 0.1.5) could lease
  the empty id and report a second completion. The cleaner pushes at the head, so the LREM usually
  stops early.
  Processing is searched from its tail, where the oldest leases sit: jobs finish roughly in the
  order they were leased, so the search stops after a few ids however many are in flight (a count
  of 0 read the whole list: 1.3 ms with 100,000 leased). One copy is removed: an id leased twice
  (a foreign client's double delivery) keeps its other copy, which that worker's complete removes
  (returning 0), or a light clean drops once its lease is gone, the data being deleted. ]]
local id = ARGV[1]
-- Fencing: a read before anything is written (HGET fails on its own key's type).
if ARGV[3] ~= '0' then
  local latest = redis.call('HGET', KEYS[14], id)
  if latest and latest ~= ARGV[3] then
    return -1
  end
end
-- Wrong types without probes (this is the per-job path): the processing LREM is the first write
-- and fails on its own key's type before anything is written. Every later step only removes this
-- id's traces; a key of another type cannot hold them, so its WRONGTYPE error means there was
-- nothing to remove there, and pcall lets the call go on. The data DEL works on any type. So the
-- call either fails with nothing written, or completes whole.
local removed = redis.call('LREM', KEYS[2], -1, id)
local deleted = redis.call('DEL', KEYS[1])
redis.call('DEL', KEYS[3], KEYS[5])
redis.pcall('ZREM', KEYS[6], id)
if deleted == 1 then
  redis.pcall('HDEL', KEYS[7], id)
  redis.pcall('HDEL', KEYS[8], id)
  redis.pcall('HDEL', KEYS[9], id)
  if ARGV[5] == '1' then
    redis.pcall('HDEL', KEYS[14], id)
  end
  -- The completed counter: best effort, one command (a stats key of another type is skipped).
  redis.pcall('HINCRBY', KEYS[15], ARGV[4] .. ':c', 1)
  -- A leased id (found in processing) waits nowhere else: only an id that was not leased can
  -- sit at a priority level, in the delayed or dead sets, or back in the queue.
  if removed == 0 then
    local function removed_from(reply)
      return type(reply) == 'number' and reply or 0
    end
    local unlisted = removed_from(redis.pcall('ZREM', KEYS[10], id))
        + removed_from(redis.pcall('ZREM', KEYS[11], id))
        + removed_from(redis.pcall('ZREM', KEYS[12], id))
    if unlisted == 0 then
      redis.pcall('LREM', KEYS[4], 1, id)
    end
  end
  if tonumber(ARGV[2]) > 0 then
    redis.call('SET', KEYS[13], 1, 'PX', ARGV[2])
  end
end
return deleted
