import type { RedisClient, RedisSessionRegistry, SessionEntry } from '../../types'
import { bucketOf, type StoreKeys } from './keys'
import { FORGET_SCRIPT, REGISTRY_ADD, REGISTRY_ENDED, REGISTRY_FORGET, REGISTRY_TOUCH } from './registry-scripts'

/*
 * The Redis store's session registry: each user's live and ended sessions in one key of its
 * own (see registry-scripts.ts), read only when a user (or the host) asks, never on a
 * request's path: the mirrors do not copy it. A user's methods are one script on one key,
 * atomic for that user across every instance. Every answer is read back as untrusted: an
 * entry that is not well formed is left out, never a crash.
 */

/** What the registry needs of its store: the host's client, the key names, and the store's start-up gate. */
export interface RegistrySource {
  readonly client: RedisClient
  readonly keys: StoreKeys
  /** The store's gate: resolves once Redis passed the start-up check and the prefix is claimed. */
  readonly passed: () => Promise<void>
  /** Throws unless Redis passed: reads fail closed at once, as lookups do. */
  readonly assert: () => void
}

/** A microsecond time as the scripts keep it: a string of at most 17 digits. */
const MICROS = /^\d{1,17}$/

/** An expiry in seconds: a whole number (cjson prints one as digits). */
const isSecond = (value: unknown): value is number => Number.isSafeInteger(value)

/** The entry `raw` stands for, or undefined when it is not one the scripts write. */
function parseEntry (raw: unknown): SessionEntry | undefined {
  if (!Array.isArray(raw)) return undefined
  const [sid, createdAt, lastSeenAt, expiresAt, ip, userAgent] = raw as unknown[]
  if (typeof sid !== 'string' || typeof createdAt !== 'string' || !MICROS.test(createdAt) ||
    typeof lastSeenAt !== 'string' || !MICROS.test(lastSeenAt) || !isSecond(expiresAt) ||
    typeof ip !== 'string' || typeof userAgent !== 'string') return undefined
  return { sid, createdAt: Number(createdAt), lastSeenAt: Number(lastSeenAt), expiresAt, ip, userAgent }
}

/** The well-formed entries of a JSON list (cjson answers an empty list as `{}`). */
function parseEntries (json: string): SessionEntry[] {
  const list: unknown = JSON.parse(json)
  return Array.isArray(list) ? list.map(parseEntry).filter((entry) => entry !== undefined) : []
}

/** The live entries of a registry value read back; a value that is not JSON holds none. */
function liveEntries (value: string): SessionEntry[] {
  let held: unknown
  try {
    held = JSON.parse(value)
  } catch {
    return []
  }
  const list = (held as { l?: unknown } | null)?.l
  return Array.isArray(list) ? list.map(parseEntry).filter((entry) => entry !== undefined) : []
}

/** An entry as the scripts take it: times of microseconds as digits (`String` of a safe integer never uses an exponent). */
function entryArgs (entry: SessionEntry): Array<string | number> {
  return [entry.sid, String(entry.createdAt), String(entry.lastSeenAt), entry.expiresAt, entry.ip, entry.userAgent]
}

/**
 * The registry of the store whose Redis, keys and gate `source` gives. Writes wait for the
 * store's start-up check as its other writes do; a Redis error rejects (the plugin answers
 * 503). Registry writes are not revocations and are not held for `minReplicas`: what ends a
 * session is the store's `end` and `endSubject`, which are.
 *
 * @example
 * ```ts
 * const registry = redisRegistry({ client, keys: storeKeys('jwt-session:'), passed: () => gate.passed, assert: () => { gate.assert() } })
 * const removed = await registry.add('u-alice', entry, 50)
 * ```
 */
export function redisRegistry (source: RegistrySource): RedisSessionRegistry {
  const { client, keys } = source

  /** Runs a registry script on `sub`'s key, with the app's clock first (the scripts compute lifetimes from it). */
  async function run (script: string, sub: string, ...args: Array<string | number>): Promise<unknown> {
    await source.passed()
    return await client.eval(script, 1, keys.registry(sub), Date.now(), ...args)
  }

  return {
    async add (sub, entry, max) {
      return parseEntries(String(await run(REGISTRY_ADD, sub, max, ...entryArgs(entry))))
    },
    async touch (sub, entry) {
      await run(REGISTRY_TOUCH, sub, ...entryArgs(entry))
    },
    async list (sub) {
      source.assert()
      // MGET answers nil for a key of another type: not the store's, read past as lookups do.
      const [value] = await client.mget([keys.registry(sub)])
      if (typeof value !== 'string') return []
      const now = Date.now()
      return liveEntries(value).filter((entry) => (entry.expiresAt + 1) * 1000 > now)
    },
    async ended (sub, sid, createdAt, expiresAt, max) {
      const answer = await run(REGISTRY_ENDED, sub, max, sid, String(createdAt), expiresAt)
      if (answer === null) return undefined
      const [cutoff, sids] = JSON.parse(String(answer)) as [string, string[]]
      return { cutoff: Number(cutoff), sids }
    },
    async forget (sub, sids) {
      await source.passed()
      // Only sessions a cut-off of the user covers may lose their revocations. Without one
      // (called out of order, or a Redis that lost it) each is kept until it expires.
      // (A value that is not one, which reads refuse everything by, forgets nothing either.)
      const [cutoff] = await client.mget([keys.subject(sub)])
      if (typeof cutoff !== 'string' || !MICROS.test(cutoff)) return
      // The registry first, and only what the cut-off covers: a live session stays listed
      // until its revocation (the cut-off) holds. Only the sessions it dropped lose their
      // revocations: one it did not hold, or that logged in after the cut-off, keeps its own.
      const dropped: unknown = JSON.parse(String(await run(REGISTRY_FORGET, sub, cutoff, ...sids)))
      const covered = Array.isArray(dropped) ? dropped.filter((sid): sid is string => typeof sid === 'string') : []
      const byBucket = new Map<number, string[]>()
      for (const sid of new Set(covered)) {
        const bucket = bucketOf(sid)
        byBucket.set(bucket, [...(byBucket.get(bucket) ?? []), keys.session(sid)])
      }
      // One call per bucket: its keys share the bucket's hash tag, so one slot on a Cluster.
      await Promise.all([...byBucket.values()].map(async (sessionKeys) =>
        await client.eval(FORGET_SCRIPT, sessionKeys.length, ...sessionKeys)))
    }
  }
}
