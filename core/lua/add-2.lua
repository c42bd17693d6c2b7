--[[ Add one item, unless an item with the same id already exists.
  KEYS[1] queue list (<prefix>:queue)
  KEYS[2] item data key (<prefix>:item:<id>)
  ARGV[1] item id
  ARGV[2] item data (bytes)
  Returns: 1 when the item was added, 0 when an item with that id already existed (nothing changed).
  The data is written before the id is pushed, in one atomic script, so no lease can ever pop an id
  whose data is not there yet. ]]
if redis.call('SET', KEYS[2], ARGV[2], 'NX') then
  redis.call('LPUSH', KEYS[1], ARGV[1])
  return 1
end
return 0
