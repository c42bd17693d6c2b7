--[[ Add one item at the default priority, unless its id exists or was completed recently.
  KEYS[1] queue list (<prefix>:queue)
  KEYS[2] item data key (<prefix>:item:<id>)
  KEYS[3] recently-completed marker (<prefix>:done:<id>), only ever set by a queue with a
          uniqueness window
  ARGV[1] item id
  ARGV[2] item data (bytes)
  Returns: 1 when the item was added, 0 when an item with that id exists or was completed within
  the window (nothing changed).
  The data is written before the id is pushed, in one atomic script, so no lease can ever pop an id
  whose data is not there yet. ]]
-- lib/wrong-types.lua: refuse keys of the wrong type before writing anything.
local refused = wrong_types({KEYS[1], 'list', KEYS[2], 'string'})
if refused then
  return refused
end
if redis.call('EXISTS', KEYS[3]) == 0 and redis.call('SET', KEYS[2], ARGV[2], 'NX') then
  redis.call('LPUSH', KEYS[1], ARGV[1])
  return 1
end
return 0
