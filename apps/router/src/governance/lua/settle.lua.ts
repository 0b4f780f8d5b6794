/**
 * Settles an admitted request in one round trip: corrects tokens-per-minute by (real − estimate)
 * in the bucket the admission charged, frees the concurrency slots, releases the budget
 * reservation and adds the real cost. Idempotent on retries: a retry (ARGV[12] = 0) only adds
 * the spend when it removes the reservation itself.
 *
 * KEYS: as admit.  ARGV: 1 reqId 2 bucketSec 3 tokenDelta 4 rl_t 5 cc_t 6 rl_k 7 cc_k (flags 1/0)
 *       8 reserveNano 9 costNano 10 bud_t 11 bud_k (flags) 12 firstAttempt (1/0)
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

if ARGV[4] == '1' then correct(KEYS[1]) end
if ARGV[5] == '1' then redis.call('ZREM', KEYS[2], reqId) end
if ARGV[6] == '1' then correct(KEYS[3]) end
if ARGV[7] == '1' then redis.call('ZREM', KEYS[4], reqId) end
local ts, ks = -1, -1
if ARGV[10] == '1' then ts = settleBudget(KEYS[5], KEYS[6]) end
if ARGV[11] == '1' then ks = settleBudget(KEYS[7], KEYS[8]) end
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
