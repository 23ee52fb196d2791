import { fail } from '../../options/checks'
import type { RedisClient } from '../../types'

/** Every method the store calls on the host's client: what `RedisClient` in `index.d.ts` describes. */
const CLIENT_METHODS = ['eval', 'mget', 'scan', 'pipeline', 'duplicate', 'once', 'call'] as const satisfies ReadonlyArray<keyof RedisClient>

/** `RedisClient` has no method the list above misses. */
export type ClientMethodsListed = [Exclude<keyof RedisClient, typeof CLIENT_METHODS[number]>] extends [never] ? true : never

/** The host's client, checked for every method the store will call, so a wrong one fails at `redisStore()`, not at the first logout. */
export function checkRedisClient (client: unknown): RedisClient {
  if (typeof client !== 'object' || client === null) fail('redisStore client must be an ioredis client')
  const missing = CLIENT_METHODS.filter((method) => typeof (client as Record<string, unknown>)[method] !== 'function')
  if (missing.length > 0) fail(`redisStore client must be an ioredis client (it has no ${missing.map((name) => `${name}()`).join(', ')})`)
  return client as RedisClient
}
