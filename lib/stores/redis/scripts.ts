/*
 * The Redis store's writes, each one script, so that each is atomic for its key. Each first
 * reads the key (a key of another type makes the script fail: fail closed, never overwrite
 * someone else's data), gives the key an absolute expiry, never none, the later of the old
 * and the new one, and publishes what it wrote for every mirror: `[kind, id, value, expiresAt]`.
 * Times of microseconds are passed and kept as strings: Lua prints large numbers in exponent notation.
 */

/** The later of the key's expiry and ARGV's, as a Lua snippet; `expiresAt` is a local. */
const LATER_EXPIRY = `
local previous = redis.call('EXPIRETIME', KEYS[1])
if previous > expiresAt then expiresAt = previous end
`

/**
 * KEYS[1] the session key; ARGV: generation, at (µs), expiresAt (s), channel, sid. Unless the
 * session has ended (or holds a value not ours) or its generation is past ARGV[1], makes
 * generation + 1 current, reached at `at`. Answers the value after the call.
 */
export const RENEW_SCRIPT = `
local current = redis.call('GET', KEYS[1])
local generation = tonumber(ARGV[1])
if current then
  local stored = string.match(current, '^(%d+):%d+$')
  if not stored then return current end
  if tonumber(stored) > generation then return current end
end
local value = string.format('%d', generation + 1) .. ':' .. ARGV[2]
local expiresAt = tonumber(ARGV[3])
${LATER_EXPIRY}
redis.call('SET', KEYS[1], value, 'EXAT', expiresAt)
redis.call('PUBLISH', ARGV[4], cjson.encode({ 's', ARGV[5], value, expiresAt }))
return value
`

/** KEYS[1] the session key; ARGV: expiresAt (s), channel, sid, the ended value. Ends the session. */
export const END_SCRIPT = `
redis.call('GET', KEYS[1])
local expiresAt = tonumber(ARGV[1])
${LATER_EXPIRY}
redis.call('SET', KEYS[1], ARGV[4], 'EXAT', expiresAt)
redis.call('PUBLISH', ARGV[2], cjson.encode({ 's', ARGV[3], ARGV[4], expiresAt }))
return 1
`

/**
 * KEYS[1] the user key; ARGV: cutoff (µs), expiresAt (s), channel, sub. Keeps the larger
 * cut-off (a value not ours is kept: it refuses every token of the user). Answers the value kept.
 */
export const END_SUBJECT_SCRIPT = `
local current = redis.call('GET', KEYS[1])
local value = ARGV[1]
if current and (tonumber(current) == nil or tonumber(current) >= tonumber(value)) then value = current end
local expiresAt = tonumber(ARGV[2])
${LATER_EXPIRY}
redis.call('SET', KEYS[1], value, 'EXAT', expiresAt)
redis.call('PUBLISH', ARGV[3], cjson.encode({ 'u', ARGV[4], value, expiresAt }))
return value
`
