--[[ Add a batch of items at the default priority; each is added unless its id exists or was
  completed recently.
  KEYS[1] queue list (<prefix>:queue)
  KEYS[2] .. KEYS[n+1] item data key of each item (<prefix>:item:<id>), in batch order
  KEYS[n+2] .. KEYS[2n+1] recently-completed marker of each item (<prefix>:done:<id>)
  ARGV[1] .. ARGV[n] item ids, in the same order
  ARGV[n+1] .. ARGV[2n] item data, in the same order
  Returns: the number of items added (an id that already existed, or came twice, adds nothing).
  The ids are pushed in chunks of 1000 so unpack() never exceeds the Lua stack. ]]
-- Refuse keys of the wrong type before writing anything: Redis does not undo the writes a
-- script made before an error.
local function wrong_type(key, kind)
  local found = redis.call('TYPE', key).ok
  if found ~= 'none' and found ~= kind then
    return redis.error_reply('WRONGTYPE ' .. key .. ' holds a ' .. found .. ', not a ' .. kind)
  end
end
local refused = wrong_type(KEYS[1], 'list')
if refused then
  return refused
end
local count = #ARGV / 2
for i = 1, count do
  refused = wrong_type(KEYS[i + 1], 'string')
  if refused then
    return refused
  end
end
local added = 0
local pending = {}
for i = 1, count do
  if redis.call('EXISTS', KEYS[count + 1 + i]) == 0
      and redis.call('SET', KEYS[i + 1], ARGV[count + i], 'NX') then
    added = added + 1
    pending[#pending + 1] = ARGV[i]
    if #pending == 1000 then
      redis.call('LPUSH', KEYS[1], unpack(pending))
      pending = {}
    end
  end
end
if #pending > 0 then
  redis.call('LPUSH', KEYS[1], unpack(pending))
end
return added
