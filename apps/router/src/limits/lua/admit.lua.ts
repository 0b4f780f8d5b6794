/**
 * Admission in ONE round trip: sliding-window requests/tokens per minute, concurrency leases,
 * and budget reservations, for the tenant and the API key, all or nothing. Mirrors
 * MemoryLimitsStore (the in-process equivalent); keep both in step.
 *
 * Window: 60 one-second buckets in a hash (`r<sec>`, `t<sec>`) with running sums `R`, `T` and
 * `P` = the last second already subtracted. Server time (TIME) so replicas' clocks never matter.
 *
 * KEYS (limits-keys.ts, scriptKeys): 1 tenantWindow 2 tenantLeases 3 keyWindow 4 keyLeases
 *       5 tenantBudget 6 tenantReservations 7 keyBudget 8 keyReservations
 * ARGV: 1 reqId  2 leaseMs  3 tokens  4 reserveNano
 *       5 rpm_t 6 tpm_t 7 conc_t  8 rpm_k 9 tpm_k 10 conc_k  11 budget_t 12 budget_k   (-1 = unlimited)
 * Returns {status(1 ok, 0 rejected, 2 needs budget), kind(1 req 2 tok 3 conc 4 budget), scope(1 tenant 2 key),
 *          retryMs, reqLimit, reqRemaining, reqResetMs, tokLimit, tokRemaining, tokResetMs, bucketSec}
 */
export const ADMIT_LUA = `
local WINDOW = 60
local time = redis.call('TIME')
local nowSec = tonumber(time[1])
local nowMs = nowSec * 1000 + math.floor(tonumber(time[2]) / 1000)
local cutoff = nowSec - WINDOW
local reqId = ARGV[1]
local lease = tonumber(ARGV[2])
local tokens = tonumber(ARGV[3])
local reserve = tonumber(ARGV[4])
local tenantWindow, tenantLeases, keyWindow, keyLeases = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
local tenantBudget, tenantReservations, keyBudget, keyReservations = KEYS[5], KEYS[6], KEYS[7], KEYS[8]

local function prune(key)
  local v = redis.call('HMGET', key, 'R', 'T', 'P')
  local P = tonumber(v[3])
  if P == nil then return 0, 0 end
  if cutoff - P >= WINDOW then
    redis.call('DEL', key)
    return 0, 0
  end
  local R, T = tonumber(v[1]) or 0, tonumber(v[2]) or 0
  if P < cutoff then
    for s = P + 1, cutoff do
      local b = redis.call('HMGET', key, 'r' .. s, 't' .. s)
      if b[1] or b[2] then
        R = R - (tonumber(b[1]) or 0)
        T = T - (tonumber(b[2]) or 0)
        redis.call('HDEL', key, 'r' .. s, 't' .. s)
      end
    end
    if R < 0 then R = 0 end
    if T < 0 then T = 0 end
    redis.call('HSET', key, 'R', string.format('%d', R), 'T', string.format('%d', T), 'P', cutoff)
  end
  return R, T
end

-- ms until enough of what is counted leaves the window to admit 'excess' more units
local function freedIn(key, field, excess)
  local acc = 0
  for s = cutoff + 1, nowSec do
    acc = acc + (tonumber(redis.call('HGET', key, field .. s)) or 0)
    if acc >= excess then return (s + WINDOW) * 1000 - nowMs end
  end
  return WINDOW * 1000
end

local scopes = {
  { rl = tenantWindow, cc = tenantLeases, rpm = tonumber(ARGV[5]), tpm = tonumber(ARGV[6]), conc = tonumber(ARGV[7]) },
  { rl = keyWindow, cc = keyLeases, rpm = tonumber(ARGV[8]), tpm = tonumber(ARGV[9]), conc = tonumber(ARGV[10]) },
}
local budgets = {
  { b = tenantBudget, r = tenantReservations, limit = tonumber(ARGV[11]) },
  { b = keyBudget, r = keyReservations, limit = tonumber(ARGV[12]) },
}

for j, bg in ipairs(budgets) do
  if bg.limit >= 0 and redis.call('HEXISTS', bg.b, 'spent') == 0 then
    return { 2, 0, j, 0, -1, 0, 0, -1, 0, 0, nowSec }
  end
end

local kind, scope, retry = 0, 0, 0
for i, sc in ipairs(scopes) do
  sc.R, sc.T, sc.C = 0, 0, 0
  if sc.rpm >= 0 or sc.tpm >= 0 then sc.R, sc.T = prune(sc.rl) end
  if sc.conc >= 0 then
    redis.call('ZREMRANGEBYSCORE', sc.cc, '-inf', nowMs)
    sc.C = redis.call('ZCARD', sc.cc)
  end
  if kind == 0 then
    if sc.rpm >= 0 and sc.R + 1 > sc.rpm then
      kind, scope = 1, i
      retry = sc.rpm < 1 and -1 or freedIn(sc.rl, 'r', sc.R + 1 - sc.rpm)
    elseif sc.tpm >= 0 and sc.T + tokens > sc.tpm then
      kind, scope = 2, i
      retry = tokens > sc.tpm and -1 or freedIn(sc.rl, 't', sc.T + tokens - sc.tpm)
    elseif sc.conc >= 0 and sc.C + 1 > sc.conc then
      kind, scope, retry = 3, i, 1000
    end
  end
end

for j, bg in ipairs(budgets) do
  if bg.limit >= 0 then
    local v = redis.call('HMGET', bg.b, 'spent', 'reserved')
    local spent, reserved = tonumber(v[1]) or 0, tonumber(v[2]) or 0
    local expired = redis.call('ZRANGEBYSCORE', bg.r, '-inf', nowMs, 'LIMIT', 0, 100)
    if #expired > 0 then
      for _, m in ipairs(expired) do
        reserved = reserved - (tonumber(string.match(m, ':(%d+)$')) or 0)
      end
      redis.call('ZREM', bg.r, unpack(expired))
      if reserved < 0 then reserved = 0 end
      redis.call('HSET', bg.b, 'reserved', string.format('%d', reserved))
    end
    if kind == 0 and spent + reserved + reserve > bg.limit then
      kind, scope = 4, j
      retry = spent + reserve > bg.limit and -2 or 1000
    end
  end
end

local admitted = kind == 0
local add = admitted and 1 or 0
local addTok = admitted and tokens or 0
local reset = WINDOW * 1000 - (nowMs - nowSec * 1000)
local rl, rr, rs, tl, tr, ts = -1, 0, 0, -1, 0, 0
for _, sc in ipairs(scopes) do
  if sc.rpm >= 0 then
    local rem = sc.rpm - sc.R - add
    if rem < 0 then rem = 0 end
    if rl < 0 or rem < rr then rl, rr, rs = sc.rpm, rem, (sc.R + add > 0) and reset or 0 end
  end
  if sc.tpm >= 0 then
    local rem = sc.tpm - sc.T - addTok
    if rem < 0 then rem = 0 end
    if tl < 0 or rem < tr then tl, tr, ts = sc.tpm, rem, (sc.T + addTok > 0) and reset or 0 end
  end
end

if not admitted then
  return { 0, kind, scope, retry, rl, rr, rs, tl, tr, ts, nowSec }
end

for _, sc in ipairs(scopes) do
  if sc.rpm >= 0 or sc.tpm >= 0 then
    redis.call('HINCRBY', sc.rl, 'r' .. nowSec, 1)
    redis.call('HINCRBY', sc.rl, 't' .. nowSec, tokens)
    redis.call('HSET', sc.rl, 'R', string.format('%d', sc.R + 1), 'T', string.format('%d', sc.T + tokens))
    redis.call('HSETNX', sc.rl, 'P', cutoff)
    redis.call('PEXPIRE', sc.rl, (WINDOW + 1) * 1000)
  end
  if sc.conc >= 0 then
    redis.call('ZADD', sc.cc, nowMs + lease, reqId)
    redis.call('PEXPIRE', sc.cc, lease)
  end
end
for _, bg in ipairs(budgets) do
  if bg.limit >= 0 and reserve > 0 then
    redis.call('HINCRBY', bg.b, 'reserved', reserve)
    redis.call('ZADD', bg.r, nowMs + lease, reqId .. ':' .. reserve)
    redis.call('PEXPIRE', bg.r, lease)
  end
end
return { 1, 0, 0, 0, rl, rr, rs, tl, tr, ts, nowSec }
`;
