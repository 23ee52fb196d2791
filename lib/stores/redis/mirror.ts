import type { RedisClient, RevocationSnapshot, SessionRecord } from '../../types'
import { PartState, type PartHealth } from '../../ops/health'
import { MemoryStoreFullError, SessionTables } from '../memory/tables'
import { HeardBuckets } from './hints'
import { BUCKETS, bucketOf, storeKeys } from './keys'
import { loadKeys, type Kind } from './load'
import { messageBucket, type LogChange, type LogPosition } from './log'
import { LogPlaces } from './places'
import { openSubscription } from './subscription'
import { parseCutoff, parseSession } from './values'

/** A copy of the sessions' state in Redis, kept in this process and current through pub/sub and the buckets' logs. */
export interface RedisMirror {
  /**
   * The session's record; throws while the copy cannot be trusted. A promise while a message
   * heard for its bucket has not been followed by a read of the log yet.
   */
  session (sid: string): SessionRecord | undefined | Promise<SessionRecord | undefined>
  /** The user's cut-off; throws while the copy cannot be trusted. A promise as for `session`. */
  subject (sub: string): number | undefined | Promise<number | undefined>
  /**
   * Whether Redis' state is past `maxEntries`: the copy holds nothing then, and reads must go
   * to Redis (as in lookup mode) until a reload fits again.
   */
  overflowing (): boolean
  /** Records a value this process wrote, without waiting for its echo. */
  apply (kind: Kind, id: string, value: string, expiresAt: number): void
  /**
   * What the copy holds and where it stands in each log, taken at once (the revocation feed's
   * snapshot); undefined while it cannot be trusted or holds nothing (past its capacity).
   */
  held (): { places: LogPosition[], entries: Omit<RevocationSnapshot, 'cursor'> } | undefined
  /** Calls `listener` on each message the subscription hears (a hint: see `HeardBuckets`); answers the function that stops it. */
  onMessage (listener: () => void): () => void
  /** Resolves once the copy is loaded and subscribed, or once it knows it cannot hold the state; rejects if closed first. */
  ready (): Promise<void>
  /** Stops the subscription (its own connection) and the checks; the host's client is left alone. */
  close (): Promise<void>
  /** `loading`, `ready`, `distrusted`, `overflow` (reads go to Redis) or `closed`, and since when. */
  health (): PartHealth
}

/** When the mirror retries and checks, in milliseconds; tests shorten them. */
export interface MirrorTimings {
  /** Wait before trying to hold a state that did not fit again: each try is a full load. */
  readonly overflowRetryMs: number
  /** How often the logs are read for anything the subscription did not bring. */
  readonly checkMs: number
}

/** Wait before trying to load again after a failure, in milliseconds. */
const RETRY_DELAY = 500
/**
 * Checks that may pass without one succeeding before the copy is distrusted: a Redis cut off
 * without a word (no reset, so the subscription looks alive and simply hears nothing) is
 * noticed within this many `checkMs`.
 */
const STALE_AFTER_CHECKS = 3
/** The timings of a mirror in production. */
export const MIRROR_TIMINGS: MirrorTimings = Object.freeze({ overflowRetryMs: 30_000, checkMs: 1000 })

const seconds = (): number => Math.floor(Date.now() / 1000)

/**
 * Starts a mirror. It subscribes first, on a connection of its own, then reads where each
 * bucket's log ends, then loads the session and user keys under `prefix` (and no other) from
 * every master, then reads the logs from where they ended: nothing written meanwhile is
 * missed, and applying a change twice, or an older one after a newer, changes nothing (an end
 * stays, a generation and a cut-off only grow).
 *
 * The logs are the only source of changes; a message on the channel is a hint to read its
 * bucket's log now (see {@link HeardBuckets}), never believed itself: whoever may publish
 * there could forge one. The copy knows where it stands in each log, moved on only by what
 * it read. When the subscription drops, the copy is distrusted (reads throw, so requests get
 * 503) until it is subscribed again and has read from each log what it missed: milliseconds,
 * not a full load. A check of the logs every `checkMs` catches anything no message pointed
 * to; when no check
 * succeeded for three of those, Redis is out of reach (perhaps without a word: no reset, a
 * subscription that hears nothing) and the copy is distrusted until it answers. A log that
 * cannot say what the copy missed (trimmed past its place, deleted, rewritten by a failover)
 * makes the copy load everything again, distrusted meanwhile.
 *
 * When Redis holds more than `maxEntries` entries, the copy is dropped and reads go to Redis,
 * rather than refusing everyone; a full load is tried again every `overflowRetryMs`.
 */
export function startRedisMirror (client: RedisClient, prefix: string, channel: string, maxEntries: number, timings: MirrorTimings = MIRROR_TIMINGS): RedisMirror {
  let tables = new SessionTables(maxEntries)
  const places = new LogPlaces(client, storeKeys(prefix))
  let inSync = false
  // What health() shows, and the store channel's state changes: the copy loading, distrusted, trusted again.
  const state = new PartState('store', 'loading')
  let overflow = false
  let attempts = 0
  let checking = false
  let closed = false
  /** When the copy was last known to hold every change in the logs (`Date.now()`). */
  let confirmedAt = 0
  let retry: NodeJS.Timeout | undefined
  let markReady!: () => void
  let closedBeforeReady!: (error: Error) => void
  const readiness = new Promise<void>((resolve, reject) => { markReady = resolve; closedBeforeReady = reject })
  // Whoever awaits ready() hears of a close before it; nobody has to, so it is never unhandled.
  readiness.catch(() => {})

  function apply (kind: Kind, id: string, value: string, expiresAt: number): void {
    const now = seconds()
    if (kind === 'u') {
      tables.raiseSubject(id, parseCutoff(value), expiresAt, now)
      return
    }
    const record = parseSession(value)
    const current = tables.session(id)
    // A live record older than what is held changes nothing; an end always goes in, for its expiry may be later.
    if (!record.ended && current !== undefined && (current.ended || current.generation >= record.generation)) return
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

  /** Distrusts the copy; a load or catch-up under way when this happens is not trusted either. */
  function distrust (): void {
    attempts++
    inSync = false
    if (state.health.state === 'ready') state.set('distrusted')
  }

  /**
   * The copy cannot hold Redis' state: it is dropped (its memory too), reads go to Redis, and
   * a full load is tried again later. Messages go on filling a fresh copy meanwhile: harmless,
   * as the next load starts from it.
   */
  function overflowed (): void {
    // A write of this process that lands after close(): nothing to give way to, nothing to retry.
    if (closed) return
    distrust()
    overflow = true
    state.set('overflow')
    tables = new SessionTables(maxEntries)
    places.forget()
    clearTimeout(retry)
    retry = setTimeout(() => { void resync() }, timings.overflowRetryMs).unref()
    // The store can answer, from Redis.
    markReady()
  }

  const applyChange = (change: LogChange): void => { apply(change.kind, change.id, change.value, change.expiresAt) }

  /**
   * Reads one bucket's log, as a message asked: a log that cannot tell what the copy missed
   * distrusts it and catches up (or loads); a copy too small gives way to Redis. Rejects when
   * Redis could not be read (the lookups waiting for it fail, closed).
   */
  async function readBucket (bucket: number): Promise<void> {
    const attempt = attempts
    try {
      if (!await places.readBucket(bucket, applyChange) && inSync && attempt === attempts) void resync()
    } catch (error) {
      if (!(error instanceof MemoryStoreFullError)) throw error
      if (attempt === attempts) overflowed()
    }
  }
  const heard = new HeardBuckets(readBucket)

  /** Subscribes, then catches up from the logs, or loads everything when they cannot tell; the copy is trusted once done. */
  async function resync (): Promise<void> {
    distrust()
    const attempt = attempts
    const wanted = (): boolean => attempt === attempts
    clearTimeout(retry)
    try {
      await subscription.subscribe()
      if ((await places.catchUp(applyChange))?.length !== 0) {
        const unreadable = await places.load(async () => { await loadKeys(client, prefix, apply, wanted) }, applyChange, wanted)
        // A log trimmed past, or rewritten, during the load: what changed meanwhile is unknown; load again.
        if (unreadable.length > 0) throw new Error('a log changed past the mirror\'s place during the load')
      }
      if (!wanted()) return
      inSync = true
      state.set('ready')
      confirmedAt = Date.now()
      overflow = false
      markReady()
    } catch (error) {
      if (!wanted()) return
      if (error instanceof MemoryStoreFullError) overflowed()
      else retry = setTimeout(() => { void resync() }, RETRY_DELAY).unref()
    }
  }

  /** Reads the logs for changes the subscription did not bring; one check at a time, only while in sync. */
  async function check (): Promise<void> {
    if (!inSync || checking) return
    checking = true
    const attempt = attempts
    const wanted = (): boolean => attempt === attempts
    try {
      const unreadable = await places.catchUp(applyChange)
      if (unreadable?.length === 0) confirmedAt = Date.now()
      else if (wanted()) void resync()
    } catch (error) {
      // A Redis that cannot be read now is read again at the next check, until the copy is too stale (tick).
      if (error instanceof MemoryStoreFullError && wanted()) overflowed()
    } finally {
      checking = false
    }
  }

  /** Every `checkMs`: a check, or, when none succeeded for too long (failed, or hung), distrust until Redis answers again. */
  function tick (): void {
    if (inSync && Date.now() - confirmedAt > STALE_AFTER_CHECKS * timings.checkMs) void resync()
    else void check()
  }
  const checks = setInterval(tick, timings.checkMs).unref()
  const listeners = new Set<() => void>()

  const subscription = openSubscription(client, channel, {
    // Only the bucket is read from a message; one that names none (something else publishes here) asks for every log.
    message (message) {
      heard.hint(messageBucket(message, BUCKETS))
      for (const listener of listeners) listener()
    },
    ready: () => { void resync() },
    close: distrust
  })

  async function close (): Promise<void> {
    closed = true
    distrust()
    state.set('closed')
    overflow = false
    clearTimeout(retry)
    clearInterval(checks)
    subscription.close()
    client.off('end', onEnd)
    // Settled once: a no-op when the copy was ready.
    closedBeforeReady(new Error('the revocation mirror was closed before it was ready'))
  }
  // The mirror lives as long as the host's client: when the host quits it, the mirror goes too.
  const onEnd = (): void => { void close() }
  client.once('end', onEnd)

  /** Throws while the copy cannot be trusted. */
  function trusted (): void {
    if (!inSync) throw new Error('the revocation mirror is not in sync with Redis')
  }

  /**
   * `answer()` from the copy, once every message heard for `id`'s bucket has been followed by a
   * read of its log: at once when none is outstanding (a lookup answers from memory), else
   * after that read, checking again that the copy is still trusted.
   */
  function current<T> (id: string, answer: () => T): T | Promise<T> {
    trusted()
    const pending = heard.settled(bucketOf(id))
    if (pending === undefined) return answer()
    return pending.then(() => { trusted(); return answer() })
  }

  return {
    session: (sid) => current(sid, () => tables.session(sid)),
    subject: (sub) => current(sub, () => tables.subject(sub)),
    overflowing: () => overflow,
    held () {
      const at = inSync && !overflow ? places.current() : undefined
      return at === undefined ? undefined : { places: at, entries: tables.dump(seconds()) }
    },
    onMessage (listener) {
      const own = (): void => { listener() }
      listeners.add(own)
      return () => { listeners.delete(own) }
    },
    apply: applyOrOverflow,
    ready: async () => await readiness,
    close,
    health: () => state.health
  }
}
