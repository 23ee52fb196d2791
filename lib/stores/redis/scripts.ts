/*
 * The Redis store's writes, each one script, so that each is atomic for its key and its
 * bucket's log (KEYS[1] the key, KEYS[2] the log; both carry the bucket's hash tag, so on a
 * Cluster they share a slot). Each first reads the key (a key of another type makes the
 * script fail: fail closed, never overwrite someone else's data), gives the key an expiry,
 * never none, the later of the old and the new one; then appends what it wrote to the log and
 * publishes it for every mirror (see {@link RECORD}). Times of microseconds are passed and
 * kept as strings: Lua prints large numbers in exponent notation.
 *
 * Lifetimes are relative (a TTL in seconds from the caller, kept in milliseconds here): Redis'
 * clock is not the app's, and an absolute time of the app's would make a revocation vanish
 * early on a Redis whose clock runs ahead. Milliseconds (PTTL, PX, PEXPIRE), since TTL rounds
 * to the nearest second and "the later expiry" could lose half of one.
 *
 * ARGV, for every script: channel, bucket, log length, the session's or user's id; then the
 * script's own arguments from ARGV[5].
 */

/** The later of the key's remaining lifetime and the new one, as a Lua snippet; `ttl` (ms) is a local. */
const LATER_EXPIRY = `
local left = redis.call('PTTL', KEYS[1])
if left > ttl then ttl = left end
`

/**
 * Appends `[kind, id, value, e]` to the bucket's log, as entry `0-<n>`: `n` counts
 * the log's entries one by one (`0-*`), so a reader that saw `n` and then hears `n + 2` knows
 * it missed one. Each entry carries the server's time in µs (`t`) and the `t` of the entry
 * before it (`p`): a chain, so that a log rewritten by a failover (the same numbers, other
 * entries) is told apart from the one a mirror read, even by a reader that only hears the
 * next entry. The log keeps about `ARGV[3]` entries (trimmed by whole blocks: cheap), and
 * expires with the last key it speaks of (its lifetime only ever lengthened): a Redis whose
 * tokens are all gone holds nothing. The entry's expiry `e` is in seconds of Redis' clock, as
 * `t` is: `e - t` is the key's lifetime when it was written, which a reader adds to its own
 * clock (never shorter than the truth: it reads after the write). Then publishes `[bucket,
 * entry id, t, p, kind, id, value, e]` (a hint to read the log; the format older versions
 * parse). `kind`, `value` and `ttl` (ms) are locals. Only ids below `1-0` are the store's (see log.ts).
 */
const RECORD = `
local time = redis.call('TIME')
local stamp = time[1] .. string.format('%06d', tonumber(time[2]))
local expiresAt = math.ceil(tonumber(time[1]) + tonumber(time[2]) / 1000000 + ttl / 1000)
local previous = ''
local last = redis.call('XREVRANGE', KEYS[2], '(1-0', '-', 'COUNT', 1)[1]
if last then
  for index = 1, #last[2] - 1, 2 do
    if last[2][index] == 't' then previous = last[2][index + 1] end
  end
end
local entry = redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[3], '0-*', 'k', kind, 'i', ARGV[4], 'v', value, 'e', string.format('%d', expiresAt), 't', stamp, 'p', previous)
if redis.call('PTTL', KEYS[2]) < ttl then redis.call('PEXPIRE', KEYS[2], ttl) end
redis.call('PUBLISH', ARGV[1], cjson.encode({ tonumber(ARGV[2]), entry, stamp, previous, kind, ARGV[4], value, expiresAt }))
`

/**
 * KEYS: the session key, its log; ARGV[5..]: generation, at (µs), ttl (s). Unless the
 * session has ended (or holds a value not ours) or its generation is past ARGV[5], makes
 * generation + 1 current, reached at `at`. Answers the value after the call.
 */
export const RENEW_SCRIPT = `
local current = redis.call('GET', KEYS[1])
local generation = tonumber(ARGV[5])
if current then
  local stored = string.match(current, '^(%d+):%d+$')
  if not stored then return current end
  if tonumber(stored) > generation then return current end
end
local kind = 's'
local value = string.format('%d', generation + 1) .. ':' .. ARGV[6]
local ttl = tonumber(ARGV[7]) * 1000
${LATER_EXPIRY}
redis.call('SET', KEYS[1], value, 'PX', ttl)
${RECORD}
return value
`

/** KEYS: the session key, its log; ARGV[5..]: ttl (s), the ended value. Ends the session. */
export const END_SCRIPT = `
redis.call('GET', KEYS[1])
local kind = 's'
local value = ARGV[6]
local ttl = tonumber(ARGV[5]) * 1000
${LATER_EXPIRY}
redis.call('SET', KEYS[1], value, 'PX', ttl)
${RECORD}
return 1
`

/**
 * KEYS: the user key, its log; ARGV[5..]: cutoff (µs), ttl (s). Records a cut-off past both
 * ARGV[5] and the one held: the held one plus 1 µs when it is not smaller, for a login may have
 * been stamped just past it, and the instance that asks may not have heard of it yet (its copy
 * a message behind, its clock behind the one that wrote it). A value not ours is kept: it
 * refuses every token of the user. Answers the value kept.
 */
export const END_SUBJECT_SCRIPT = `
local current = redis.call('GET', KEYS[1])
local kind = 'u'
local value = ARGV[5]
if current then
  if tonumber(current) == nil then value = current
  elseif tonumber(current) >= tonumber(value) then value = string.format('%.0f', tonumber(current) + 1) end
end
local ttl = tonumber(ARGV[6]) * 1000
${LATER_EXPIRY}
redis.call('SET', KEYS[1], value, 'PX', ttl)
${RECORD}
return value
`
