--[[ Resume a paused queue and wake every blocked lease.
  KEYS[1] paused flag (<prefix>:paused)
  KEYS[2] wake-up flag for blocked leases (<prefix>:signal)
  Returns: 1 if the queue was paused, 0 if it was not. ]]
-- lib/wrong-types.lua: refuse keys of the wrong type before writing anything.
local refused = wrong_types({KEYS[2], 'list'})
if refused then
  return refused
end
local was_paused = redis.call('DEL', KEYS[1])
redis.call('LPUSH', KEYS[2], 1)
redis.call('LTRIM', KEYS[2], 0, 0)
redis.call('PEXPIRE', KEYS[2], 2000)
return was_paused
