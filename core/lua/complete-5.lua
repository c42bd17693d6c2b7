--[[ Complete an item: delete its data, its ids in processing, and its lease.
  KEYS[1] item data key (<prefix>:item:<id>)
  KEYS[2] processing list (<prefix>:processing)
  KEYS[3] lease key (<prefix>:lease:<id>)
  KEYS[4] queue list (<prefix>:queue)
  KEYS[5] old-generation lease key (<prefix>:leased_by_session:<id>)
  ARGV[1] item id
  Returns: 1 for the one call that deleted the item's data, 0 for every other call.
  The data key decides, as in redis-work-queue 0.3, so exactly one caller ever sees 1.
  If the id was no longer in processing (its lease ran out and a cleaner requeued it), the queued
  copy is removed too: otherwise an old-generation client (PyPI redis-work-queue 0.1.5) could lease
  the empty id and report a second completion. The cleaner pushes at the head, so the LREM usually
  stops early. ]]
local deleted = redis.call('DEL', KEYS[1])
local removed = redis.call('LREM', KEYS[2], 0, ARGV[1])
redis.call('DEL', KEYS[3], KEYS[5])
if deleted == 1 and removed == 0 then
  redis.call('LREM', KEYS[4], 1, ARGV[1])
end
return deleted
