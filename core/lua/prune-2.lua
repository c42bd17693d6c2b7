--[[ Drop bookkeeping entries whose item no longer exists (an old-generation client completed it,
  which knows nothing of these). Used by the deep clean, one SCAN page at a time.
  KEYS[1] a per-id hash (<prefix>:attempts, :errors, :priority, :fences) or zset (:deadlines, :dead)
  KEYS[2] item key prefix (<prefix>:item:)
  ARGV[1] 'hash' or 'zset'
  ARGV[2..n] ids found in KEYS[1] (at most 1000)
  Returns: how many entries were dropped. ]]
-- lib/wrong-types.lua: refuse a key of the wrong type before writing anything.
local refused = wrong_types({KEYS[1], ARGV[1]})
if refused then
  return refused
end
local dropped = 0
for i = 2, #ARGV do
  local id = ARGV[i]
  if redis.call('EXISTS', KEYS[2] .. id) == 0 then
    if ARGV[1] == 'hash' then
      dropped = dropped + redis.call('HDEL', KEYS[1], id)
    else
      dropped = dropped + redis.call('ZREM', KEYS[1], id)
    end
  end
end
return dropped
