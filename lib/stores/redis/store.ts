import { fail, isPlainObject, rejectUnknownKeys, wholeNumber } from '../../options/checks'
import { DEFAULTS, REDIS_STORE_OPTIONS } from '../../options/defaults'
import type { RedisStore, RedisStoreOptions } from '../../types'
import { redisAttempts } from './attempts'
import { startRedisMirror } from './mirror'
import { largestCutoff } from './values'
import { checkRedisClient } from './client'
import { startPreflight } from './preflight-gate'
import { revocationWriter } from './replication'

/**
 * Revokes atomically, in one script: of two renewals of one token on two instances, only
 * the first gets 1. Nothing is written for tokens that have expired already; every key gets
 * an absolute expiry (never none), the later of the old and the new one. Then the revocation
 * is published, for every mirror. KEYS[1] the key; ARGV: cutoff, expiresAt, channel, bare key.
 */
const REVOKE_SCRIPT = `
local cutoff = tonumber(ARGV[1])
local expiresAt = tonumber(ARGV[2])
if expiresAt <= tonumber(redis.call('TIME')[1]) then return 1 end
local current = tonumber(redis.call('GET', KEYS[1]) or '')
if current ~= nil and current >= cutoff then return 0 end
local previous = redis.call('EXPIRETIME', KEYS[1])
if previous > expiresAt then expiresAt = previous end
redis.call('SET', KEYS[1], ARGV[1], 'EXAT', expiresAt)
redis.call('PUBLISH', ARGV[3], cjson.encode({ ARGV[4], cutoff, expiresAt }))
return 1
`

/**
 * A revocation store in Redis, for many instances and for the services downstream.
 * It takes an ioredis client the host owns (the one `@fastify/redis` decorates) and never
 * closes it. In `mirror` mode (the default) each process keeps a copy of the revocations,
 * current through pub/sub, so `authenticate` answers from memory; in `lookup` mode each
 * request reads Redis once.
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
  const channel = `${prefix}revoked`
  // Checked before anything is trusted: every call fails closed until Redis passed.
  const gate = startPreflight(client, { keys: ['jti:', 'sid:', 'sub:', 'attempts:'].map((kind) => prefix + kind), channel, wait: minReplicas > 0 })
  const writer = revocationWriter(client, minReplicas, replicaTimeout)
  const mirror = mode === 'mirror' ? startRedisMirror(client, prefix, channel, maxEntries) : undefined

  async function revoke (key: string, cutoff: number, expiresAt: number): Promise<boolean> {
    await gate.passed
    const revoked = await writer.eval(REVOKE_SCRIPT, 1, prefix + key, cutoff, expiresAt, channel, key) === 1
    // This process sees its own revocation at once, not when the echo arrives.
    mirror?.record(key, cutoff, expiresAt)
    return revoked
  }

  return {
    revoke,
    cutoff: mirror === undefined
      ? async (keys) => { gate.assert(); return largestCutoff(await client.mget(keys.map((key) => prefix + key))) }
      : (keys) => { gate.assert(); return mirror.cutoff(keys) },
    attempts: redisAttempts(client, prefix),
    ready: async () => { await gate.passed; await writer.ready(); await mirror?.ready() },
    close: async () => { gate.close(); writer.close(); await mirror?.close() }
  }
}
