/*
 * The Redis store's writes, each one script, so that each is atomic for its key and its
 * bucket's log (KEYS[1] the key, KEYS[2] the log; both carry the bucket's hash tag, so on a
 * Cluster they share a slot). Each first reads the key (a key of another type makes the
 * script fail: fail closed, never overwrite someone else's data), gives the key an absolute
 * expiry, never none, the later of the old and the new one; then appends what it wrote to the
 * log and publishes it for every mirror (see {@link RECORD}). Times of microseconds are
 * passed and kept as strings: Lua prints large numbers in exponent notation.
 *
 * ARGV, for every script: channel, bucket, log length, the session's or user's id; then the
 * script's own arguments from ARGV[5].
 */

/** The later of the key's expiry and ARGV's, as a Lua snippet; `expiresAt` is a local. */
const LATER_EXPIRY = `
local previous = redis.call('EXPIRETIME', KEYS[1])
if previous > expiresAt then expiresAt = previous end
`

/**
 * Appends `[kind, id, value, expiresAt]` to the bucket's log, as entry `0-<n>`: `n` counts
 * the log's entries one by one (`0-*`), so a reader that saw `n` and then hears `n + 2` knows
 * it missed one. Each entry carries the server's time in µs (`t`) and the `t` of the entry
 * before it (`p`): a chain, so that a log rewritten by a failover (the same numbers, other
 * entries) is told apart from the one a mirror read, even by a reader that only hears the
 * next entry. The log keeps about `ARGV[3]` entries (trimmed by whole blocks: cheap), and
 * expires with the last key it speaks of: a Redis whose tokens are all gone holds nothing.
 * Then publishes `[bucket, entry id, t, p, kind, id, value, expiresAt]`. `kind`, `value` and
 * `expiresAt` are locals. Only ids below `1-0` are the store's (see log.ts).
 */
const RECORD = `
local time = redis.call('TIME')
local stamp = time[1] .. string.format('%06d', tonumber(time[2]))
local previous = ''
local last = redis.call('XREVRANGE', KEYS[2], '(1-0', '-', 'COUNT', 1)[1]
if last then
  for index = 1, #last[2] - 1, 2 do
    if last[2][index] == 't' then previous = last[2][index + 1] end
  end
end
local entry = redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[3], '0-*', 'k', kind, 'i', ARGV[4], 'v', value, 'e', string.format('%d', expiresAt), 't', stamp, 'p', previous)
if redis.call('EXPIRETIME', KEYS[2]) < expiresAt then redis.call('EXPIREAT', KEYS[2], expiresAt) end
redis.call('PUBLISH', ARGV[1], cjson.encode({ tonumber(ARGV[2]), entry, stamp, previous, kind, ARGV[4], value, expiresAt }))
`

/**
 * KEYS: the session key, its log; ARGV[5..]: generation, at (µs), expiresAt (s). Unless the
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
local expiresAt = tonumber(ARGV[7])
${LATER_EXPIRY}
redis.call('SET', KEYS[1], value, 'EXAT', expiresAt)
${RECORD}
return value
`

/** KEYS: the session key, its log; ARGV[5..]: expiresAt (s), the ended value. Ends the session. */
export const END_SCRIPT = `
redis.call('GET', KEYS[1])
local kind = 's'
local value = ARGV[6]
local expiresAt = tonumber(ARGV[5])
${LATER_EXPIRY}
redis.call('SET', KEYS[1], value, 'EXAT', expiresAt)
${RECORD}
return 1
`

/**
 * KEYS: the user key, its log; ARGV[5..]: cutoff (µs), expiresAt (s). Keeps the larger
 * cut-off (a value not ours is kept: it refuses every token of the user). Answers the value kept.
 */
export const END_SUBJECT_SCRIPT = `
local current = redis.call('GET', KEYS[1])
local kind = 'u'
local value = ARGV[5]
if current and (tonumber(current) == nil or tonumber(current) >= tonumber(value)) then value = current end
local expiresAt = tonumber(ARGV[6])
${LATER_EXPIRY}
redis.call('SET', KEYS[1], value, 'EXAT', expiresAt)
${RECORD}
return value
`
