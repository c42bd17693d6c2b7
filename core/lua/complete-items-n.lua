--[[ Complete a batch of items, each as complete-15.lua does, in one call.
  KEYS[1]  processing list (<prefix>:processing)
  KEYS[2]  queue list (<prefix>:queue)
  KEYS[3]  lease deadlines (<prefix>:deadlines)
  KEYS[4]  attempts per id (<prefix>:attempts)
  KEYS[5]  last error per id (<prefix>:errors)
  KEYS[6]  priority level per id (<prefix>:priority)
  KEYS[7]  prioritized ids (<prefix>:prioritized)
  KEYS[8]  delayed ids (<prefix>:delayed)
  KEYS[9]  dead letters (<prefix>:dead)
  KEYS[10] fencing token of each id's latest delivery (<prefix>:fences)
  KEYS[11] per-minute counters, hash (<prefix>:stats)
  then four keys per item, in the order of the items: its data key (<prefix>:item:<id>), its lease
  key (<prefix>:lease:<id>), its old-generation lease key (<prefix>:leased_by_session:<id>) and
  its recently-completed marker (<prefix>:done:<id>)
  ARGV[1] uniqueness window (milliseconds; 0 = none)
  ARGV[2] the current minute (Unix ms / 60000) by the caller's clock, for the counters
  ARGV[3] 1 when the caller's queue has the fencing option (true completes delete the token)
  then two values per item: its id, and the caller's fencing token or 0 not to check it
  Returns: one number per item, in order: 1 for the one call that deleted the item's data, 0 for
  every other call, -1 (nothing changed for that item) when its token is superseded.
  The per-item commands are those of complete-15.lua (a fencing read, the processing LREM from the
  tail, the data DEL, a marker); the bookkeeping of the whole batch is one command each (DEL of
  the leases, ZREM of the deadlines, HDEL of attempts, errors, priorities and tokens, one HINCRBY
  of the counter), so a batch costs far less per item. Wrong types as in complete-15.lua: the
  first item's processing LREM is the first write and fails on its key's type before anything is
  written; every later write only removes traces, with pcall where a key may be of another type. ]]
local count = (#KEYS - 11) / 4
local results = {}
local checked = {}
local lease_keys = {}
local deleted = {}
for i = 1, count do
  local id, token = ARGV[2 + 2 * i], ARGV[3 + 2 * i]
  local keys = 11 + 4 * (i - 1)
  local superseded = false
  if token ~= '0' then
    local latest = redis.call('HGET', KEYS[10], id)
    superseded = latest and latest ~= token
  end
  if superseded then
    results[i] = -1
  else
    local removed = redis.call('LREM', KEYS[1], -1, id)
    local gone = redis.call('DEL', KEYS[keys + 1])
    checked[#checked + 1] = id
    lease_keys[#lease_keys + 1] = KEYS[keys + 2]
    lease_keys[#lease_keys + 1] = KEYS[keys + 3]
    if gone == 1 then
      deleted[#deleted + 1] = id
      if removed == 0 then
        -- Not leased: it may wait at a level, delayed, dead, or back in the queue.
        local function removed_from(reply)
          return type(reply) == 'number' and reply or 0
        end
        local unlisted = removed_from(redis.pcall('ZREM', KEYS[7], id))
            + removed_from(redis.pcall('ZREM', KEYS[8], id))
            + removed_from(redis.pcall('ZREM', KEYS[9], id))
        if unlisted == 0 then
          redis.pcall('LREM', KEYS[2], 1, id)
        end
      end
      if tonumber(ARGV[1]) > 0 then
        redis.call('SET', KEYS[keys + 4], 1, 'PX', ARGV[1])
      end
    end
    results[i] = gone
  end
end
if #lease_keys > 0 then
  redis.call('DEL', unpack(lease_keys))
  redis.pcall('ZREM', KEYS[3], unpack(checked))
end
if #deleted > 0 then
  redis.pcall('HDEL', KEYS[4], unpack(deleted))
  redis.pcall('HDEL', KEYS[5], unpack(deleted))
  redis.pcall('HDEL', KEYS[6], unpack(deleted))
  if ARGV[3] == '1' then
    redis.pcall('HDEL', KEYS[10], unpack(deleted))
  end
  redis.pcall('HINCRBY', KEYS[11], ARGV[2] .. ':c', #deleted)
end
return results
