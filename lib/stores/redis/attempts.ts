import type { AttemptCounter, RedisClient } from '../../types'

/**
 * Counts one attempt unless the window is full, in one script, so that instances racing on
 * one login name never count past the limit together. The first attempt starts the window.
 * KEYS[1] the key; ARGV: limit, window in ms. Answers 0 when counted, else ms left.
 */
const TAKE_SCRIPT = `
local count = tonumber(redis.call('GET', KEYS[1]) or '0') or 0
if count >= tonumber(ARGV[1]) then
  local left = redis.call('PTTL', KEYS[1])
  if left > 0 then return left end
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return tonumber(ARGV[2])
end
if redis.call('INCR', KEYS[1]) == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return 0
`

/**
 * Uncounts one attempt, keeping the window's expiry, in one script (one key: Cluster-safe).
 * The last attempt given back drops the key: a key left at 0 would live out its window, and
 * a flood of refused or successful logins would fill a Redis that may not evict (so every
 * logout would fail). `PEXPIRE` with 0 deletes the key at once (documented Redis behaviour);
 * it is used rather than `DEL` because the store's user is already allowed it (the README's
 * ACL and the start-up check), and a new command would refuse an upgraded store with an
 * existing ACL. A key at 0 left by an earlier version is dropped too. KEYS[1] the key.
 */
const RELEASE_SCRIPT = `
local count = tonumber(redis.call('GET', KEYS[1]) or '0') or 0
if count > 1 then
  redis.call('DECR', KEYS[1])
else
  redis.call('PEXPIRE', KEYS[1], 0)
end
return 0
`

/** Login attempts counted in Redis under `<prefix>attempts:`, shared by every instance. */
export function redisAttempts (client: RedisClient, prefix: string): AttemptCounter {
  const keyPrefix = `${prefix}attempts:`
  return {
    take: async (key: string, limit: number, windowMs: number) =>
      Number(await client.eval(TAKE_SCRIPT, 1, keyPrefix + key, limit, windowMs)),
    release: async (key: string) => { await client.eval(RELEASE_SCRIPT, 1, keyPrefix + key) }
  }
}
