import { fail } from '../../options/checks'
import type { RedisClient } from '../../types'

/** Every method the store calls on the host's client: what `RedisClient` in `index.d.ts` describes. */
const CLIENT_METHODS = ['eval', 'mget', 'duplicate', 'once', 'off', 'call'] as const satisfies ReadonlyArray<keyof RedisClient>

// `RedisClient` has no method the list above misses: a method added to the type and not to the list fails to compile here.
void (true satisfies [Exclude<keyof RedisClient, typeof CLIENT_METHODS[number]>] extends [never] ? true : never)

/** The ioredis options the store looks at: those that would make it read other keys, or stale ones. */
interface ClientOptions {
  db?: unknown
  keyPrefix?: unknown
  scaleReads?: unknown
  redisOptions?: { keyPrefix?: unknown }
}

/**
 * The pub/sub channel of the store's keys under `prefix`. Keys live in one database of a
 * Redis, but pub/sub does not: a message published in database 1 reaches the subscribers of
 * database 0. So the channel names the client's database when it is not the default one, and
 * two apps in two databases of one Redis never hear each other.
 */
export function channelOf (client: RedisClient, prefix: string): string {
  const db = (client as { options?: ClientOptions }).options?.db
  return typeof db === 'number' && db > 0 ? `${prefix}revoked:${db}` : `${prefix}revoked`
}

/**
 * The host's client, checked for every method the store will call, so a wrong one fails at
 * `redisStore()`, not at the first logout; and refused when configured in a way that would
 * let a logged-out token in: ioredis' `keyPrefix` prefixes every key but not SCAN's pattern
 * nor its answers (a mirror would load nothing), and a Cluster's `scaleReads` other than
 * `'master'` reads replicas, whose copy lags the master that acknowledged a logout.
 */
export function checkRedisClient (client: unknown): RedisClient {
  if (typeof client !== 'object' || client === null) fail('redisStore client must be an ioredis client')
  const missing = CLIENT_METHODS.filter((method) => typeof (client as Record<string, unknown>)[method] !== 'function')
  if (missing.length > 0) fail(`redisStore client must be an ioredis client (it has no ${missing.map((name) => `${name}()`).join(', ')})`)
  const options = (client as { options?: ClientOptions }).options ?? {}
  if (Boolean(options.keyPrefix) || Boolean(options.redisOptions?.keyPrefix)) {
    fail("redisStore cannot use a client with ioredis' keyPrefix (SCAN ignores it): give the prefix to redisStore's own prefix option")
  }
  if (options.scaleReads !== undefined && options.scaleReads !== 'master') {
    fail("redisStore needs a Cluster client that reads from masters (scaleReads: 'master'): a replica can answer a logged-out token as live")
  }
  return client as RedisClient
}
