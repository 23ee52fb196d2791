/*
 * The session registry's scripts. A user's registry is ONE string key
 * (`<prefix>r:{u:<hash>}<sub>`, see keys.ts), its value the JSON text
 * `{"l":[live...],"x":[ended...]}`: a live session `[sid, createdAt, lastSeenAt, expiresAt,
 * ip, userAgent]`, an ended one `[sid, createdAt, expiresAt]`, times of microseconds as strings
 * of digits (cjson prints numbers with 14 significant digits: a microsecond time would lose
 * its last ones), expiries in seconds of the app's clock. One key, so each method is one
 * script on one slot, atomic per user; and a string, so the store runs no command the README's
 * minimal ACL does not already grant (GET, SET with PX, PTTL, PEXPIRE): an upgraded store
 * keeps working with the ACL its operator set up.
 *
 * Every script reads the value through {@link READ}, which keeps only well-formed entries not
 * yet expired (a value this store did not write reads as an empty registry: the registry
 * grants nothing, so nothing is refused by dropping it), and writes it back through
 * {@link SAVE}. Lifetimes are relative: ARGV[1] is the app's clock (ms), from which the
 * script computes the lifetime left to the entry that lasts longest, as the store's other
 * writes compute theirs from `expiresAt`, and Redis keeps the key that long (`PX`).
 */

/**
 * Declares `now` (ARGV[1], ms of the app's clock), `live` and `ended` from KEYS[1]'s value,
 * expired and malformed entries left out. An entry lasts through its `expiresAt` second (the
 * last one a token of it can be used in). A key of another type fails the script (WRONGTYPE):
 * not the store's, never overwritten.
 */
const READ = `
local now = tonumber(ARGV[1])
local function digits (value) return type(value) == 'string' and #value <= 17 and string.match(value, '^%d+$') ~= nil end
local function second (value) return type(value) == 'number' and value == math.floor(value) and (value + 1) * 1000 > now end
local live, ended = {}, {}
local raw = redis.call('GET', KEYS[1])
if raw then
  local ok, held = pcall(cjson.decode, raw)
  if ok and type(held) == 'table' then
    if type(held.l) == 'table' then
      for _, e in ipairs(held.l) do
        if type(e) == 'table' and type(e[1]) == 'string' and digits(e[2]) and digits(e[3]) and second(e[4]) and type(e[5]) == 'string' and type(e[6]) == 'string' then
          live[#live + 1] = { e[1], e[2], e[3], e[4], e[5], e[6] }
        end
      end
    end
    if type(held.x) == 'table' then
      for _, e in ipairs(held.x) do
        if type(e) == 'table' and type(e[1]) == 'string' and digits(e[2]) and second(e[3]) then
          ended[#ended + 1] = { e[1], e[2], e[3] }
        end
      end
    end
  end
end
local function without (list, sid)
  local kept = {}
  for _, e in ipairs(list) do if e[1] ~= sid then kept[#kept + 1] = e end end
  return kept
end
`

/**
 * Writes `live` and `ended` back, with a lifetime that reaches the last `expiresAt` among
 * them (at least 1 s), or the one the key has left if that is later; an empty registry is
 * dropped (`PEXPIRE 0` deletes: no `DEL` to grant).
 */
const SAVE = `
local function save ()
  local latest = nil
  for _, e in ipairs(live) do if latest == nil or e[4] > latest then latest = e[4] end end
  for _, e in ipairs(ended) do if latest == nil or e[3] > latest then latest = e[3] end end
  if latest == nil then
    redis.call('PEXPIRE', KEYS[1], 0)
    return
  end
  local ttl = math.max(1, math.ceil(latest - now / 1000)) * 1000
  local left = redis.call('PTTL', KEYS[1])
  if left > ttl then ttl = left end
  redis.call('SET', KEYS[1], cjson.encode({ l = live, x = ended }), 'PX', ttl)
end
`

/**
 * KEYS[1] the registry; ARGV: now (ms), max, then the entry (sid, createdAt, lastSeenAt,
 * expiresAt, ip, userAgent). Lists the entry (replacing one of the same sid: a retried login)
 * and, past `max`, removes the least recently used others (by `lastSeenAt`, then `sid`: the
 * same order whatever Redis' sort does with ties). The entry itself is never removed: it is
 * the one in use now, whatever another instance's clock stamped on the others. Answers the
 * removed entries as JSON (an empty one as `{}`, cjson's empty table).
 */
export const REGISTRY_ADD = `${READ}${SAVE}
local entry = { ARGV[3], ARGV[4], ARGV[5], tonumber(ARGV[6]), ARGV[7], ARGV[8] }
live = without(live, entry[1])
local evicted = {}
local count = #live - tonumber(ARGV[2]) + 1
if count > 0 then
  table.sort(live, function (a, b)
    local x, y = tonumber(a[3]), tonumber(b[3])
    if x ~= y then return x < y end
    return a[1] < b[1]
  end)
  local kept = {}
  for index, e in ipairs(live) do
    if index <= count then evicted[#evicted + 1] = e else kept[#kept + 1] = e end
  end
  live = kept
end
live[#live + 1] = entry
save()
return cjson.encode(evicted)
`

/**
 * KEYS[1] the registry; ARGV: now (ms), then the entry. Replaces the listed entry's
 * lastSeenAt, expiresAt, ip and userAgent (its createdAt stays); an unlisted sid (ended,
 * removed, expired) is not listed again, and nothing is written.
 */
export const REGISTRY_TOUCH = `${READ}${SAVE}
for _, e in ipairs(live) do
  if e[1] == ARGV[2] then
    e[3], e[4], e[5], e[6] = ARGV[4], tonumber(ARGV[5]), ARGV[6], ARGV[7]
    save()
    return 1
  end
end
return 0
`

/**
 * KEYS[1] the registry; ARGV: now (ms), max, sid, createdAt (µs), expiresAt (s). Moves `sid`
 * from the live sessions to the ended ones (an ended one already held keeps the later
 * expiry). When more than `max` ended ones are then held, folds the oldest by login past
 * `max`: the cut-off is the latest login among them, and the fold names every session, ended
 * or live, that logged in at or before it (a tie at the cut-off included). Nothing leaves the
 * registry here: {@link REGISTRY_FORGET} drops them once the cut-off is recorded, so that a
 * cut-off the store fails to record leaves a live session listed. Answers `[cutoff, [sid...]]`
 * as JSON, or nil when nothing was folded.
 */
export const REGISTRY_ENDED = `${READ}${SAVE}
local sid, expiresAt = ARGV[3], tonumber(ARGV[5])
live = without(live, sid)
for _, e in ipairs(ended) do
  if e[1] == sid and e[3] > expiresAt then expiresAt = e[3] end
end
ended = without(ended, sid)
ended[#ended + 1] = { sid, ARGV[4], expiresAt }
local max = tonumber(ARGV[2])
if #ended <= max then
  save()
  return false
end
table.sort(ended, function (a, b)
  local x, y = tonumber(a[2]), tonumber(b[2])
  if x ~= y then return x < y end
  return a[1] < b[1]
end)
local cutoff = ended[#ended - max][2]
local limit = tonumber(cutoff)
local sids = {}
for _, list in ipairs({ ended, live }) do
  for _, e in ipairs(list) do
    if tonumber(e[2]) <= limit then sids[#sids + 1] = e[1] end
  end
end
save()
return cjson.encode({ cutoff, sids })
`

/**
 * KEYS[1] the registry; ARGV: now (ms), the user's cut-off held (µs, digits), then sids.
 * Drops each named session, ended or live, that logged in at or before the cut-off: one the
 * cut-off does not cover stays, whatever the caller named. Answers the sids dropped, as JSON
 * (none as `{}`, cjson's empty table): only their revocations may then be forgotten.
 */
export const REGISTRY_FORGET = `${READ}${SAVE}
local limit = tonumber(ARGV[2])
local named = {}
for index = 3, #ARGV do named[ARGV[index]] = true end
local dropped = {}
local function keep (list)
  local kept = {}
  for _, e in ipairs(list) do
    if named[e[1]] and tonumber(e[2]) <= limit then dropped[#dropped + 1] = e[1] else kept[#kept + 1] = e end
  end
  return kept
end
ended = keep(ended)
live = keep(live)
if #dropped > 0 then save() end
return cjson.encode(dropped)
`

/**
 * KEYS: session keys of one bucket (one slot). Drops each (`PEXPIRE 0` deletes: the minimal
 * ACL grants it, not `DEL`). Answers how many there were.
 */
export const FORGET_SCRIPT = `
for _, key in ipairs(KEYS) do redis.call('PEXPIRE', key, 0) end
return #KEYS
`
