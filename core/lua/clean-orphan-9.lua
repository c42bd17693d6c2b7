--[[ Requeue one item if it is in no list or set and holds no lease (an orphan); used by the deep
  clean and to finish the old-generation cleaner's leftovers.
  KEYS[1] item data key (<prefix>:item:<id>)
  KEYS[2] queue list (<prefix>:queue)
  KEYS[3] processing list (<prefix>:processing)
  KEYS[4] lease key (<prefix>:lease:<id>)
  KEYS[5] old-generation lease key (<prefix>:leased_by_session:<id>)
  KEYS[6] old-generation cleaning list (<prefix>:cleaning)
  KEYS[7] prioritized ids (<prefix>:prioritized)
  KEYS[8] delayed ids (<prefix>:delayed)
  KEYS[9] dead letters (<prefix>:dead)
  ARGV[1] item id
  ARGV[2] 1 to also remove the id from the cleaning list, 0 otherwise
  ARGV[3] 1 for a first sighting: only tell whether it is an orphan, change nothing (except
          removing a non-orphan from the cleaning list); 0 to requeue it if it still is one
  Returns: 1 when the item was requeued (or, at a first sighting, is an orphan), 0 when it needed
  nothing.
  Grace: the caller requeues an orphan only if it saw it as one at a first sighting at least the
  grace period before (a redis-work-queue producer writes the data, then pushes the id, in two
  commands). Only a string is item data: a key of another type under <prefix>:item: is not this
  queue's item (it may be another queue's key, e.g. the list <prefix>:item:x:queue of a queue
  named <prefix>:item:x) and is never adopted.
  The caller sends only ids it did not see in its own snapshot of the lists. A live lease and the
  sets are checked first (O(1)), then processing (short), then only the 1000 ids at each end of
  the queue, so one call stays short even on a million-item queue: an id that moved into the
  queue while the caller's second snapshot was read sits at one of its ends. (Were one missed, it
  would be queued twice and delivered twice, never lost.) An orphan goes back at the default
  level. ]]
local id = ARGV[1]
-- lib/wrong-types.lua: refuse keys of the wrong type before writing anything.
local refused = wrong_types({KEYS[2], 'list', KEYS[3], 'list', KEYS[6], 'list', KEYS[7], 'zset',
  KEYS[8], 'zset', KEYS[9], 'zset'})
if refused then
  return refused
end
local requeued = 0
if redis.call('TYPE', KEYS[1]).ok == 'string'
    and redis.call('EXISTS', KEYS[4], KEYS[5]) == 0
    and not redis.call('ZSCORE', KEYS[7], id)
    and not redis.call('ZSCORE', KEYS[8], id)
    and not redis.call('ZSCORE', KEYS[9], id)
    and not redis.call('LPOS', KEYS[3], id)
    and not redis.call('LPOS', KEYS[2], id, 'RANK', 1, 'MAXLEN', 1000)
    and not redis.call('LPOS', KEYS[2], id, 'RANK', -1, 'MAXLEN', 1000) then
  if ARGV[3] == '1' then
    return 1
  end
  redis.call('LPUSH', KEYS[2], id)
  requeued = 1
end
if ARGV[2] == '1' then
  redis.call('LREM', KEYS[6], 1, id)
end
return requeued
