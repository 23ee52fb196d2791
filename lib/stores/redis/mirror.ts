import type { RedisClient, SessionRecord } from '../../types'
import { MemoryStoreFullError, SessionTables } from '../memory/tables'
import { loadKeys, type Kind } from './load'
import { openSubscription } from './subscription'
import { parseCutoff, parseSession } from './values'

export type { Kind } from './load'

/** A copy of the sessions' state in Redis, kept in this process and current through pub/sub. */
export interface RedisMirror {
  /** The session's record; throws while the copy cannot be trusted. */
  session (sid: string): SessionRecord | undefined
  /** The user's cut-off; throws while the copy cannot be trusted. */
  subject (sub: string): number | undefined
  /**
   * Whether Redis' state is past `maxEntries`: the copy holds nothing then, and reads must go
   * to Redis (as in lookup mode) until a reload fits again.
   */
  overflowing (): boolean
  /** Records a value this process wrote, without waiting for its echo. */
  apply (kind: Kind, id: string, value: string, expiresAt: number): void
  /** Resolves once the copy is loaded and subscribed, or once it knows it cannot hold the state. */
  ready (): Promise<void>
  /** Stops the subscription (its own connection); the host's client is left alone. */
  close (): Promise<void>
}

/** Wait before trying to load again after a failure, in milliseconds. */
const RETRY_DELAY = 500
/** Wait before trying again to hold a state that did not fit, in milliseconds: each try is a full load. */
export const OVERFLOW_RETRY_DELAY = 30_000

/** A pub/sub message `[kind, id, value, expiresAt]`, or undefined when it is not one. */
function parseMessage (message: string): [Kind, string, string, number] | undefined {
  try {
    const value: unknown = JSON.parse(message)
    if (Array.isArray(value) && value.length === 4 && (value[0] === 's' || value[0] === 'u') &&
      typeof value[1] === 'string' && typeof value[2] === 'string' && Number.isFinite(value[3])) return value as [Kind, string, string, number]
  } catch {}
  return undefined
}

const seconds = (): number => Math.floor(Date.now() / 1000)

/**
 * Starts a mirror: subscribes first on a connection of its own, then loads the session and
 * user keys under `prefix` (and no other) from every master, so that nothing published during
 * the load is missed: applying a value twice, or an older one after a newer, changes nothing
 * (an end stays, a generation and a cut-off only grow). Whenever the subscription drops, the
 * copy is distrusted (reads throw, so requests get 503) until it is subscribed and loaded
 * again. When Redis holds more than `maxEntries` entries, the copy is dropped and reads go to
 * Redis, rather than refusing everyone; a full load is tried again every `overflowRetryMs`
 * and the copy is used again once one fits.
 */
export function startRedisMirror (client: RedisClient, prefix: string, channel: string, maxEntries: number, overflowRetryMs = OVERFLOW_RETRY_DELAY): RedisMirror {
  let tables = new SessionTables(maxEntries)
  let inSync = false
  let overflow = false
  let attempts = 0
  let retry: NodeJS.Timeout | undefined
  let markReady!: () => void
  const readiness = new Promise<void>((resolve) => { markReady = resolve })

  function apply (kind: Kind, id: string, value: string, expiresAt: number): void {
    const now = seconds()
    if (kind === 'u') {
      tables.raiseSubject(id, parseCutoff(value), expiresAt, now)
      return
    }
    const record = parseSession(value)
    const current = tables.session(id)
    if (current !== undefined && (current.ended || (!record.ended && current.generation >= record.generation))) return
    tables.setSession(id, record, expiresAt, now)
  }

  /** Applies a value this process wrote or heard of; a copy too small for it gives way to Redis. */
  function applyOrOverflow (kind: Kind, id: string, value: string, expiresAt: number): void {
    try {
      apply(kind, id, value, expiresAt)
    } catch {
      // Only a full copy throws here (MemoryStoreFullError).
      overflowed()
    }
  }

  /** Distrusts the copy; a load under way when this happens is not trusted either. */
  function distrust (): void {
    attempts++
    inSync = false
  }

  /**
   * The copy cannot hold Redis' state: it is dropped (its memory too), reads go to Redis, and
   * a full load is tried again later. Messages go on filling a fresh copy meanwhile: harmless,
   * as the next load starts from it.
   */
  function overflowed (): void {
    distrust()
    overflow = true
    tables = new SessionTables(maxEntries)
    clearTimeout(retry)
    retry = setTimeout(() => { void resync() }, overflowRetryMs).unref()
    // The store can answer, from Redis.
    markReady()
  }

  async function resync (): Promise<void> {
    distrust()
    const attempt = attempts
    const wanted = (): boolean => attempt === attempts
    clearTimeout(retry)
    try {
      await subscription.subscribe()
      await loadKeys(client, prefix, apply, wanted)
      if (!wanted()) return
      inSync = true
      overflow = false
      markReady()
    } catch (error) {
      if (!wanted()) return
      if (error instanceof MemoryStoreFullError) overflowed()
      else retry = setTimeout(() => { void resync() }, RETRY_DELAY).unref()
    }
  }

  const subscription = openSubscription(client, channel, {
    message (message) {
      const change = parseMessage(message)
      // Something else publishes on our channel: the copy may have missed a real message.
      if (change === undefined) void resync()
      else applyOrOverflow(...change)
    },
    ready: () => { void resync() },
    close: distrust
  })

  async function close (): Promise<void> {
    distrust()
    overflow = false
    clearTimeout(retry)
    subscription.close()
  }
  // The mirror lives as long as the host's client: when the host quits it, the mirror goes too.
  client.once('end', () => { void close() })

  /** Throws while the copy cannot be trusted. */
  function trusted (): void {
    if (!inSync) throw new Error('the revocation mirror is not in sync with Redis')
  }

  return {
    session (sid) {
      trusted()
      return tables.session(sid)
    },
    subject (sub) {
      trusted()
      return tables.subject(sub)
    },
    overflowing: () => overflow,
    apply: applyOrOverflow,
    ready: async () => await readiness,
    close
  }
}
