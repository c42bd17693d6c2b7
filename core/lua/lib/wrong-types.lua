--[[ Prepended by core/src/scripts.rs to every script: Redis does not undo the writes a script made
  before an error, so scripts check the keys they may write before writing anything.
  wrong_types({key, type, key, type, ...}): a WRONGTYPE error reply for the first key that exists
  with another type, or nil. Each key is probed with the cheapest command of its type (LLEN,
  HLEN, ZCARD, STRLEN: about 0.5 us each, a third of TYPE's cost); TYPE runs only to word the
  error. No table is built at load: this text runs on every call of every script, the hot ones
  included, and only the slow paths call the function. ]]
local function wrong_types(expected)
  for i = 1, #expected, 2 do
    local key, kind = expected[i], expected[i + 1]
    local probe = (kind == 'list' and 'LLEN') or (kind == 'hash' and 'HLEN')
      or (kind == 'zset' and 'ZCARD') or 'STRLEN'
    local probed = redis.pcall(probe, key)
    if type(probed) == 'table' and probed.err then
      local found = redis.call('TYPE', key).ok
      return redis.error_reply('WRONGTYPE ' .. key .. ' holds a ' .. found .. ', not a ' .. kind)
    end
  end
end
