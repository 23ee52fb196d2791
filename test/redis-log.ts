import type { ChainableCommander, Redis } from 'ioredis'
import { redisStore, type RedisClient, type RedisStore, type SessionRecord } from '../lib/index'
import { LOG_LENGTH, bucketOf, storeKeys } from '../lib/stores/redis/keys'
import type { RedisMirror } from '../lib/stores/redis/mirror'
import { END_SCRIPT } from '../lib/stores/redis/scripts'
import { connected, type RedisServer } from './redis-server'

/*
 * What the tests of the mirror's logs share: writes made exactly as the store makes them (but
 * published where the test wants), ids in one bucket, a blip, and a look at the copy.
 */

/** The default prefix's channel. */
export const CHANNEL = 'jwt-session:revoked'
/** The default prefix's keys. */
export const keys = storeKeys('jwt-session:')

/** The EVAL of a logout of `sid` as the store runs it, published on `channel` (elsewhere: nobody hears it). */
function endArgs (sid: string, channel: string): [string, number, ...Array<string | number>] {
  const bucket = bucketOf(sid)
  return [END_SCRIPT, 2, keys.session(sid), keys.log(bucket), channel, bucket, LOG_LENGTH, sid, 600, 'x']
}

/** Logs `sid` out as the store does, on `admin`'s connection. */
export async function endBy (admin: Redis, sid: string, channel = CHANNEL): Promise<void> {
  await admin.eval(...endArgs(sid, channel))
}

/** Adds to `batch` (a MULTI or a pipeline) a logout of `sid` as the store makes it. */
export function endIn (batch: ChainableCommander, sid: string, channel = CHANNEL): ChainableCommander {
  return batch.eval(...endArgs(sid, channel))
}

/** `count` ids named `<name>-<n>` that all fall in `bucket`. */
export function sameBucket (count: number, name = 'sid', bucket = 3): string[] {
  const ids: string[] = []
  for (let index = 0; ids.length < count; index++) if (bucketOf(`${name}-${index}`) === bucket) ids.push(`${name}-${index}`)
  return ids
}

/** Runs `fill` in one transaction after a kill of every subscription: nothing can subscribe again before its writes are done. */
export async function duringBlip (admin: Redis, fill: (batch: ChainableCommander) => void): Promise<void> {
  const batch = admin.multi().call('CLIENT', 'KILL', 'TYPE', 'pubsub')
  fill(batch)
  for (const [error] of await batch.exec() ?? []) if (error !== null) throw error
}

/**
 * Whether the copy says `sid` has ended; false while it is distrusted, answers from Redis, or
 * waits for a read of the log a message asked for (a promise: asked again by the caller's poll).
 */
export function ended (source: RedisMirror | RedisStore, sid: string): boolean {
  try {
    const answer = source.session(sid)
    if (answer instanceof Promise) {
      answer.catch(() => {})
      return false
    }
    return (answer as SessionRecord | undefined)?.ended === true
  } catch {
    return false
  }
}

/** How many times the server ran `command` so far (a full load runs SCAN, a catch-up XRANGE). */
export async function commandCalls (admin: Redis, command: string): Promise<number> {
  return Number(new RegExp(`cmdstat_${command}:calls=(\\d+)`).exec(String(await admin.call('INFO', 'commandstats')))?.[1] ?? 0)
}

/** A mirror-mode store on a client of its own, ready, closed after the test. */
export async function readyStore (t: { teardown (fn: () => unknown): void }, server: RedisServer): Promise<RedisStore> {
  const client = server.client()
  await connected(client)
  const store = redisStore({ client })
  t.teardown(async () => await store.close())
  await store.ready()
  return store
}

/**
 * `client`, with `around` run in place of each `call()` (the store's log reads): a fake only
 * to reach a race on demand, the commands still go to the real Redis.
 */
export function intercepted (client: Redis, around: (args: [string, ...unknown[]], real: () => Promise<unknown>) => Promise<unknown>): RedisClient {
  return new Proxy(client, {
    get (target, property) {
      if (property === 'call') return async (...args: [string, ...unknown[]]) => await around(args, async () => await (target.call as (...a: unknown[]) => Promise<unknown>)(...args))
      const value = Reflect.get(target, property, target)
      return typeof value === 'function' ? value.bind(target) : value
    }
  }) as unknown as RedisClient
}
