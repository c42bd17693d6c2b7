--[[ Lease the next item: move its id from the queue to processing and take its lease, atomically.
  KEYS[1] queue list (<prefix>:queue)
  KEYS[2] processing list (<prefix>:processing)
  KEYS[3] lease key prefix (<prefix>:lease:)
  KEYS[4] item key prefix (<prefix>:item:)
  ARGV[1] lease duration (milliseconds, > 0)
  ARGV[2] session id of the leasing worker
  Returns: {id, data}, or nil when the queue holds no leasable item.
  Because the move and the lease key are written in one script, no cleaner can ever see the id in
  processing without its lease. An id whose data is gone (completed while queued, or never added
  by a crashed producer) is dropped from processing and the next id is tried, at most 100 per call
  so one call stays short. ]]
for _ = 1, 100 do
  local id = redis.call('RPOPLPUSH', KEYS[1], KEYS[2])
  if not id then
    return nil
  end
  local data = redis.call('GET', KEYS[4] .. id)
  if data then
    redis.call('SET', KEYS[3] .. id, ARGV[2], 'PX', ARGV[1])
    return {id, data}
  end
  -- RPOPLPUSH put the id at the head, so this LREM stops after one element.
  redis.call('LREM', KEYS[2], 1, id)
end
return nil
