--[[ Resume a paused queue and wake every blocked lease.
  KEYS[1] paused flag (<prefix>:paused)
  KEYS[2] wake-up flag for blocked leases (<prefix>:signal)
  Returns: 1 if the queue was paused, 0 if it was not. ]]
local was_paused = redis.call('DEL', KEYS[1])
redis.call('LPUSH', KEYS[2], 1)
redis.call('LTRIM', KEYS[2], 0, 0)
redis.call('PEXPIRE', KEYS[2], 2000)
return was_paused
