--[[ Add a batch of items at the default priority; each is added unless its id exists or was
  completed recently.
  KEYS[1] queue list (<prefix>:queue)
  KEYS[2] .. KEYS[n+1] item data key of each item (<prefix>:item:<id>), in batch order
  KEYS[n+2] .. KEYS[2n+1] recently-completed marker of each item (<prefix>:done:<id>)
  ARGV[1] .. ARGV[n] item ids, in the same order
  ARGV[n+1] .. ARGV[2n] item data, in the same order
  Returns: the number of items added (an id that already existed, or came twice, adds nothing).
  The ids are pushed in chunks of 1000 so unpack() never exceeds the Lua stack. ]]
local count = #ARGV / 2
-- lib/wrong-types.lua: refuse keys of the wrong type before writing anything.
local expected = {KEYS[1], 'list'}
for i = 1, count do
  expected[#expected + 1] = KEYS[i + 1]
  expected[#expected + 1] = 'string'
end
local refused = wrong_types(expected)
if refused then
  return refused
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
