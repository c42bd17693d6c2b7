--[[ Prepended by core/src/scripts.rs to every script: Redis does not undo the writes a script made
  before an error, so scripts check the keys they may write before writing anything.
  wrong_types({key, type, key, type, ...}): a WRONGTYPE error reply for the first key that exists
  with another type, or nil. Each key is probed with the cheapest command of its type (LLEN,
  HLEN, ZCARD, STRLEN: about 0.5 us each, a third of TYPE's cost); TYPE runs only to word the
  error. ]]
local wrong_type_probes = {list = 'LLEN', hash = 'HLEN', zset = 'ZCARD', string = 'STRLEN'}
local function wrong_types(expected)
  for i = 1, #expected, 2 do
    local key, kind = expected[i], expected[i + 1]
    local probed = redis.pcall(wrong_type_probes[kind], key)
    if type(probed) == 'table' and probed.err then
      local found = redis.call('TYPE', key).ok
      return redis.error_reply('WRONGTYPE ' .. key .. ' holds a ' .. found .. ', not a ' .. kind)
    end
  end
end
