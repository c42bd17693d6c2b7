--[[ Complete a batch of items and lease the next ones, in one call: the text of
  complete-items-n.lua and lease-15.lua, each as a function of its own KEYS and ARGV
  (core/src/scripts.rs wraps them as complete_items(KEYS, ARGV) and lease(KEYS, ARGV) above this
  text), run one after the other. Same guarantees as the two calls made back to back.
  ARGV[1] how many of KEYS are complete-items-n.lua's (11 + 4 per item); the rest are
          lease-15.lua's 15
  ARGV[2] how many of the following values are complete-items-n.lua's (3 + 2 per item); the rest
          are lease-15.lua's 5
  Returns {completed, leased}: complete-items-n.lua's reply, then lease-15.lua's. When the lease
  part fails (a key of the wrong type), the whole call returns its error and the completes stand:
  completing those items again returns false, as after a lost reply. ]]
local complete_keys, complete_values = tonumber(ARGV[1]), tonumber(ARGV[2])
local function slice(list, from, to)
  local part = {}
  for i = from, to do
    part[#part + 1] = list[i]
  end
  return part
end
local completed = complete_items(slice(KEYS, 1, complete_keys), slice(ARGV, 3, 2 + complete_values))
local leased = lease(slice(KEYS, complete_keys + 1, #KEYS), slice(ARGV, 3 + complete_values, #ARGV))
if type(leased) == 'table' and leased.err then
  return leased
end
return {completed, leased}
