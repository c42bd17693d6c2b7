--[[ Prepended by core/src/scripts.rs to the scripts that would otherwise write before meeting a
  key of the wrong type: Redis does not undo the writes a script made before an error, so they
  refuse such keys before writing anything.
  wrong_types({key, type, key, type, ...}): a WRONGTYPE error reply for the first key that exists
  with another type, or nil. ]]
local function wrong_types(expected)
  for i = 1, #expected, 2 do
    local key, kind = expected[i], expected[i + 1]
    local found = redis.call('TYPE', key).ok
    if found ~= 'none' and found ~= kind then
      return redis.error_reply('WRONGTYPE ' .. key .. ' holds a ' .. found .. ', not a ' .. kind)
    end
  end
end
