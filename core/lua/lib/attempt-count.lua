--[[ Attempt counts (<prefix>:attempts) as light clean, lease, fail and release read them: one
  rule and one wording for a count leaseq cannot use. Scripts read the count before their first
  write (Redis keeps the writes a script made before an error), so nothing after may fail on it.
  attempt_count(raw): the count HGET gave (`or '0'` for no field), or nil when it is not one. Only
  a decimal integer of at most 15 digits is a count (what HINCRBY writes): any other value makes
  the id a poison item.
  unreadable_count(hash, id, raw): what is wrong with such a count, for an error text.
  poison_count(hash, id, raw): the dead letter's error for an item buried for it. ]]
local function attempt_count(raw)
  if raw == '0' or (#raw <= 15 and string.find(raw, '^%-?[1-9]%d*$')) then
    return tonumber(raw)
  end
  return nil
end
local function unreadable_count(hash, id, raw)
  return 'its attempt count (field ' .. id .. ' of ' .. hash .. ') is "' .. string.sub(raw, 1, 40)
    .. '", not an integer leaseq can count'
end
local function poison_count(hash, id, raw)
  return 'poison item: ' .. unreadable_count(hash, id, raw) .. '; leaseq writes only small'
    .. ' integers there (requeue this dead letter, which resets the count, or purge it)'
end
