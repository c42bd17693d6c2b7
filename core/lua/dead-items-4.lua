--[[ Read a page of dead letters, oldest death first.
  KEYS[1] dead letters, zset scored by time of death in ms (<prefix>:dead)
  KEYS[2] item key prefix (<prefix>:item:)
  KEYS[3] attempts per id (<prefix>:attempts)
  KEYS[4] last error per id (<prefix>:errors)
  ARGV[1] first index   ARGV[2] last index (at most 999 after the first; both within i64)
  Returns: a flat list, five entries per dead item: id, data, attempts, error, died_at_ms. ]]
-- The indexes come from the client as integers: a Lua number would round those above 2^53.
-- One unreadable key (a poison item's data, a hash of the wrong type) empties its own field
-- rather than failing the whole page.
local function readable(reply, default)
  if not reply or (type(reply) == 'table' and reply.err) then
    return default
  end
  return reply
end
local ids = redis.call('ZRANGE', KEYS[1], ARGV[1], ARGV[2], 'WITHSCORES')
local page = {}
for i = 1, #ids, 2 do
  local id = ids[i]
  page[#page + 1] = id
  page[#page + 1] = readable(redis.pcall('GET', KEYS[2] .. id), '')
  page[#page + 1] = readable(redis.pcall('HGET', KEYS[3], id), '0')
  page[#page + 1] = readable(redis.pcall('HGET', KEYS[4], id), '')
  page[#page + 1] = ids[i + 1]
end
return page
