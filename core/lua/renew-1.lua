--[[ Extend a lease, only while the calling session still holds it.
  KEYS[1] lease key (<prefix>:lease:<id>)
  ARGV[1] session id of the caller
  ARGV[2] new lease duration from now (milliseconds, > 0)
  Returns: 1 when the lease was extended, 0 when it had expired, was completed, or belongs to
  another session (then nothing changed). ]]
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return 1
end
return 0
