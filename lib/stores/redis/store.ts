import { fail, isPlainObject, rejectUnknownKeys, wholeNumber } from '../../options/checks'
import { DEFAULTS, REDIS_STORE_OPTIONS } from '../../options/defaults'
import type { RedisStore, RedisStoreOptions, SessionRecord } from '../../types'
import { redisAttempts } from './attempts'
import { channelOf, checkRedisClient } from './client'
import { redisHistory } from './history'
import { LOG_LENGTH, bucketOf, encodeId, storeKeys } from './keys'
import { startRedisMirror } from './mirror'
import { END_SCRIPT, END_SUBJECT_SCRIPT, RENEW_SCRIPT } from './scripts'
import { ENDED_VALUE, parseCutoff, parseSession } from './values'
import { startPreflight } from './preflight-gate'
import { claimingGate } from './owner'
import { revocationWriter } from './replication'
import { followConnection } from './connection'
import { redisRegistry } from './registry'
import type { PartHealth } from '../../ops/health'

/** `unavailable` while the gate refuses calls (Redis not checked yet, refused, or the prefix not claimed); else undefined. */
function gateHealth (gate: { assert (): void }): PartHealth | undefined {
  try {
    gate.assert()
    return undefined
  } catch {
    return { state: 'unavailable', since: 0 }
  }
}

/**
 * The lifetime Redis gives a key that must last until `expiresAt` (seconds, the app's clock):
 * relative, since Redis' clock may run ahead of the app's; at least 1 s (Redis refuses 0).
 */
const ttlUntil = (expiresAt: number): number => Math.max(1, Math.ceil(expiresAt - Date.now() / 1000))

/**
 * A revocation store in Redis, for many instances and for the services downstream: one key
 * per session renewed or ended (`<prefix>s:{<bucket>}<sid>`), one per user logged out
 * everywhere (`<prefix>u:{<bucket>}<sub>`), each written by one atomic script that also
 * appends the change to its bucket's log (`<prefix>log:{<bucket>}`, see `keys.ts`), and
 * expiring once no token it concerns can be used; and each user's session registry
 * (`<prefix>r:{u:<hash>}<sub>`, see `registry.ts`). It takes an ioredis client the host owns
 * (the one `@fastify/redis` decorates) and never closes it. In `mirror` mode (the default)
 * each process keeps a copy, current through pub/sub and the logs, so `authenticate` answers
 * from memory; in `lookup` mode each request reads Redis.
 *
 * @example
 * ```ts
 * const client = new Redis(process.env.REDIS_URL, { enableOfflineQueue: false, maxRetriesPerRequest: 1 })
 * await app.register(jwtAuth, { secret, verifyCredentials, revocationStore: redisStore({ client }) })
 * ```
 */
export function redisStore (options: RedisStoreOptions): RedisStore {
  if (!isPlainObject(options)) fail('redisStore needs an options object')
  rejectUnknownKeys(options, REDIS_STORE_OPTIONS, 'redisStore ', 'redisStore option')
  const { prefix = DEFAULTS.redisStore.prefix, mode = DEFAULTS.redisStore.mode } = options
  const client = checkRedisClient(options.client)
  if (typeof prefix !== 'string' || prefix === '') fail('redisStore prefix must be a non-empty string')
  if (mode !== 'mirror' && mode !== 'lookup') fail("redisStore mode must be 'mirror' or 'lookup'")
  const maxEntries = wholeNumber('redisStore maxEntries', options.maxEntries ?? DEFAULTS.redisStore.maxEntries, 1, 'a positive whole number')
  const minReplicas = wholeNumber('redisStore minReplicas', options.minReplicas ?? DEFAULTS.redisStore.minReplicas, 0, 'a whole number, 0 or more')
  const replicaTimeout = wholeNumber('redisStore replicaTimeout', options.replicaTimeout ?? DEFAULTS.redisStore.replicaTimeout, 1, 'a positive whole number of milliseconds')
  const channel = channelOf(client, prefix)
  const keys = storeKeys(prefix)
  // Checked before anything is trusted: every call fails closed until Redis passed.
  // ...and, once the app claimed the prefix (`claimPrefix`), until the claim succeeded.
  const gate = claimingGate(startPreflight(client, { keys: [`${prefix}s:`, `${prefix}u:`, `${prefix}r:`, `${prefix}attempts:`, `${prefix}app`], log: `${prefix}log:`, channel, wait: minReplicas > 0 }), client, prefix)
  const writer = revocationWriter(client, minReplicas, replicaTimeout)
  const mirror = mode === 'mirror' ? startRedisMirror(client, prefix, channel, maxEntries) : undefined
  // Without a copy, health() follows the client's connection: every lookup needs it.
  const connection = mirror === undefined ? followConnection(client, gate.passed) : undefined
  // The revocation feed's: the logs, read by whichever instance a reader connects to.
  const history = redisHistory({ client, prefix, keys, channel, assert: () => { gate.assert() }, mirror })

  /** One key's value in lookup mode; MGET answers nil for a key of another type, which is read past. */
  async function read (key: string): Promise<string | null> {
    gate.assert()
    const [value] = await client.mget([key])
    return value as string | null
  }

  /** A session's record read from Redis: lookup mode, and a mirror past its capacity. */
  async function lookupSession (sid: string): Promise<SessionRecord | undefined> {
    const value = await read(keys.session(sid))
    return value === null ? undefined : parseSession(value)
  }

  /** A user's cut-off read from Redis: lookup mode, and a mirror past its capacity. */
  async function lookupSubject (sub: string): Promise<number | undefined> {
    const value = await read(keys.subject(sub))
    return value === null ? undefined : parseCutoff(value)
  }

  /**
   * Runs a write script on `key` (the key of `id`) and the log of its bucket, once Redis
   * passed its check, with the replicas' acknowledgement when asked.
   */
  async function write (script: string, key: string, id: string, ...args: Array<string | number>): Promise<string> {
    await gate.passed
    const bucket = bucketOf(id)
    const value = String(await writer.eval(script, 2, key, keys.log(bucket), channel, bucket, LOG_LENGTH, encodeId(id), ...args))
    // This process' own readers hear of it at once, not when the message comes back.
    history.wake()
    return value
  }

  return {
    session: mirror === undefined
      ? lookupSession
      : (sid) => { gate.assert(); return mirror.overflowing() ? lookupSession(sid) : mirror.session(sid) },
    subject: mirror === undefined
      ? lookupSubject
      : (sub) => { gate.assert(); return mirror.overflowing() ? lookupSubject(sub) : mirror.subject(sub) },
    async renew (sid, generation, at, expiresAt) {
      const value = await write(RENEW_SCRIPT, keys.session(sid), sid, generation, String(at), ttlUntil(expiresAt))
      // This process sees its own writes at once, not when the echo arrives.
      mirror?.apply('s', sid, value, expiresAt)
      return parseSession(value)
    },
    async end (sid, expiresAt) {
      await write(END_SCRIPT, keys.session(sid), sid, ttlUntil(expiresAt), ENDED_VALUE)
      mirror?.apply('s', sid, ENDED_VALUE, expiresAt)
    },
    async endSubject (sub, cutoff, expiresAt) {
      const value = await write(END_SUBJECT_SCRIPT, keys.subject(sub), sub, String(cutoff), ttlUntil(expiresAt))
      mirror?.apply('u', sub, value, expiresAt)
    },
    attempts: redisAttempts(client, prefix),
    // Read when a user asks, never by authenticate: the mirror does not copy it.
    registry: redisRegistry({ client, keys, passed: async () => { await gate.passed }, assert: () => { gate.assert() } }),
    claimPrefix: gate.claim,
    history: history.view,
    ready: async () => { await gate.passed; await writer.ready(); await mirror?.ready() },
    close: async () => { gate.close(); writer.close(); history.close(); connection?.close(); await mirror?.close() },
    health: () => gateHealth(gate) ?? (mirror ?? connection as NonNullable<typeof connection>).health()
  }
}
