/**
 * Settles an admitted request in one round trip: corrects tokens-per-minute by (real − estimate)
 * in the bucket the admission charged, frees the concurrency slots, releases the budget
 * reservation and adds the real cost. Idempotent on retries: a retry (ARGV[12] = 0) only adds
 * the spend when it removes the reservation itself.
 *
 * KEYS: as admit.  ARGV: 1 reqId 2 bucketSec 3 tokenDelta, flags (1/0) of what the admission
 *       charged: 4 tenant rate 5 tenant concurrency 6 key rate 7 key concurrency,
 *       8 reserveNano 9 costNano, flags: 10 tenant budget 11 key budget 12 firstAttempt
 * Returns {tenantSpentNano or -1, keySpentNano or -1}
 */
export const SETTLE_LUA = `
local WINDOW = 60
local nowSec = tonumber(redis.call('TIME')[1])
local reqId = ARGV[1]
local bucket = tonumber(ARGV[2])
local delta = tonumber(ARGV[3])
local reserve = tonumber(ARGV[8])
local cost = tonumber(ARGV[9])
local first = ARGV[12] == '1'
local tenantWindow, tenantLeases, keyWindow, keyLeases = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
local tenantBudget, tenantReservations, keyBudget, keyReservations = KEYS[5], KEYS[6], KEYS[7], KEYS[8]

local function correct(key)
  if delta == 0 or bucket <= nowSec - WINDOW then return end
  local P = tonumber(redis.call('HGET', key, 'P'))
  if P == nil or bucket <= P then return end
  local field = 't' .. bucket
  local v = redis.call('HINCRBY', key, field, delta)
  local applied = delta
  if v < 0 then
    redis.call('HSET', key, field, 0)
    applied = delta - v
  end
  local total = redis.call('HINCRBY', key, 'T', applied)
  if total < 0 then redis.call('HSET', key, 'T', 0) end
end

local function settleBudget(b, r)
  local removed = 0
  if reserve > 0 then removed = redis.call('ZREM', r, reqId .. ':' .. ARGV[8]) end
  if redis.call('HEXISTS', b, 'spent') == 0 then return -1 end
  if removed == 1 then
    local left = redis.call('HINCRBY', b, 'reserved', -reserve)
    if left < 0 then redis.call('HSET', b, 'reserved', 0) end
  end
  if removed == 1 or first then
    return redis.call('HINCRBY', b, 'spent', ARGV[9])
  end
  return tonumber(redis.call('HGET', b, 'spent'))
end

if ARGV[4] == '1' then correct(tenantWindow) end
if ARGV[5] == '1' then redis.call('ZREM', tenantLeases, reqId) end
if ARGV[6] == '1' then correct(keyWindow) end
if ARGV[7] == '1' then redis.call('ZREM', keyLeases, reqId) end
local ts, ks = -1, -1
if ARGV[10] == '1' then ts = settleBudget(tenantBudget, tenantReservations) end
if ARGV[11] == '1' then ks = settleBudget(keyBudget, keyReservations) end
return { ts, ks }
`;

/**
 * Seeds a month's budget total when it is absent (KEYS[1] budget hash; ARGV: spentNano, ttlMs).
 * Returns the total in force (the existing one if another replica seeded it first).
 */
export const INIT_BUDGET_LUA = `
if redis.call('HSETNX', KEYS[1], 'spent', ARGV[1]) == 1 then
  redis.call('HSETNX', KEYS[1], 'reserved', '0')
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return tonumber(redis.call('HGET', KEYS[1], 'spent'))
`;

/** A month's budget: {spent, reserved} (nil when the total is not in Redis). KEYS[1] the budget hash. */
export const BUDGET_STATUS_LUA = `
return redis.call('HMGET', KEYS[1], 'spent', 'reserved')
`;
