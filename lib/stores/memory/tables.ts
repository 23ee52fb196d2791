import type { RevocationSnapshot, SessionRecord } from '../../types'

/** A live session's record, as the memory store keeps it: with the time it may be dropped (seconds). */
class LiveSession implements SessionRecord {
  readonly ended = false
  constructor (readonly generation: number, readonly renewedAt: number, readonly expiresAt: number) {}
}

/** What an ended session is answered as: its generation no longer matters. */
export const ENDED: SessionRecord = Object.freeze({ generation: 0, renewedAt: 0, ended: true })

/**
 * Seconds subtracted from an ended session's expiry, so that the number kept for it is small
 * enough for V8 to hold in the map slot itself (a small integer) rather than as a 16-byte
 * number on the heap: an ended session costs its key and one slot.
 */
const EPOCH = 1_700_000_000

/** A session entry: an ended session is its expiry alone (less {@link EPOCH}); a live one, its record. */
type SessionEntry = number | LiveSession

/** A user's logout-all cut-off (microseconds) and the time it may be dropped (seconds). */
interface SubjectEntry {
  readonly cutoff: number
  readonly expiresAt: number
}

const sessionExpiry = (entry: SessionEntry): number => typeof entry === 'number' ? entry + EPOCH : entry.expiresAt
const subjectExpiry = (entry: SubjectEntry): number => entry.expiresAt

/** Thrown by a write that needs a new entry when the tables are full of live ones (the Redis mirror then answers from Redis). */
export class MemoryStoreFullError extends Error {
  override name = 'MemoryStoreFullError'
}

/**
 * Entries held beside the tables under the same `maxEntries` bound (the memory store's
 * session registry): counted with them, and swept with them when the bound is reached.
 */
export interface Lodger {
  readonly size: number
  sweep (now: number): void
}

/**
 * Two maps, sessions and users, bounded together by `maxEntries` (with a lodger's entries,
 * when one is given), each entry dropped once its expiry (seconds) has passed. A full table
 * refuses new keys only: reads, and writes to a key already held, never depend on free space.
 * Shared by the memory store and the Redis mirror.
 */
export class SessionTables {
  private readonly sessions = new Map<string, SessionEntry>()
  private readonly subjects = new Map<string, SubjectEntry>()
  private sweptAt = 0
  #lodger: Lodger | undefined

  constructor (private readonly maxEntries: number) {}

  /** The tables' own entries: sessions and users. */
  get size (): number {
    return this.sessions.size + this.subjects.size
  }

  /** Every entry the bound counts: the tables' and the lodger's. */
  private get held (): number {
    return this.size + (this.#lodger?.size ?? 0)
  }

  /** Counts `lodger`'s entries under this bound from now on. */
  lodge (lodger: Lodger): void {
    this.#lodger = lodger
  }

  /**
   * Throws {@link MemoryStoreFullError} unless one more entry fits, after dropping the expired
   * ones: for the lodger, before it adds one.
   */
  makeRoom (now: number): void {
    if (this.held >= this.maxEntries) this.sweep(now)
    if (this.held >= this.maxEntries) throw new MemoryStoreFullError(`memoryStore holds ${this.maxEntries} live entries`)
  }

  /**
   * Drops the entries of `sid`: only once a user's cut-off covers the session (the registry's
   * fold), so that no revocation is forgotten.
   */
  forgetSession (sid: string): void {
    this.sessions.delete(sid)
  }

  /** The live record of `sid`, or undefined. On every request: the clock is read only for a session it holds. */
  session (sid: string): SessionRecord | undefined {
    const entry = this.sessions.get(sid)
    if (entry === undefined || sessionExpiry(entry) <= Date.now() / 1000) return undefined
    return typeof entry === 'number' ? ENDED : entry
  }

  /** The live cut-off of `sub`, or undefined. On every request: the clock is read only for a user it holds. */
  subject (sub: string): number | undefined {
    const entry = this.subjects.get(sub)
    return entry === undefined || entry.expiresAt <= Date.now() / 1000 ? undefined : entry.cutoff
  }

  /**
   * Records `record` (or, when ended, the end) for `sid`, kept until the later of `expiresAt`
   * and what it held: an entry never expires earlier than a write asked. Answers the record kept.
   */
  setSession (sid: string, record: SessionRecord, expiresAt: number, now: number): SessionRecord {
    const old = this.sessions.get(sid)
    const until = old === undefined ? expiresAt : Math.max(expiresAt, sessionExpiry(old))
    const entry = record.ended ? until - EPOCH : new LiveSession(record.generation, record.renewedAt, until)
    this.set(this.sessions, sid, old !== undefined, entry, sessionExpiry, now)
    return typeof entry === 'number' ? ENDED : entry
  }

  /** Raises the cut-off of `sub` to at least `cutoff`, kept until the later of `expiresAt` and what it held. */
  raiseSubject (sub: string, cutoff: number, expiresAt: number, now: number): void {
    const old = this.subjects.get(sub)
    const entry = old === undefined ? { cutoff, expiresAt } : { cutoff: Math.max(cutoff, old.cutoff), expiresAt: Math.max(expiresAt, old.expiresAt) }
    this.set(this.subjects, sub, old !== undefined, entry, subjectExpiry, now)
  }

  /**
   * Writes `value` for `key`; `held` says whether the map holds the key already (the caller
   * just read it), which spares a lookup in a large map on every new key, as a load makes.
   */
  private set<V> (map: Map<string, V>, key: string, held: boolean, value: V, expiryOf: (value: V) => number, now: number): void {
    // Re-added at the back, where its new expiry belongs: a map keeps insertion order, which
    // is then roughly expiry order, and expired entries are dropped from the front.
    if (held) {
      map.delete(key)
      map.set(key, value)
      return
    }
    dropExpiredFront(map, expiryOf, now)
    this.makeRoom(now)
    map.set(key, value)
  }

  /** Every live entry, as a snapshot of the revocation feed lists them (see `RevocationSnapshot`). */
  dump (now: number): Omit<RevocationSnapshot, 'cursor'> {
    const sessions: Array<RevocationSnapshot['sessions'][number]> = []
    const subjects: Array<RevocationSnapshot['subjects'][number]> = []
    for (const [sid, entry] of this.sessions) {
      const expiresAt = sessionExpiry(entry)
      if (expiresAt <= now) continue
      sessions.push(typeof entry === 'number' ? [sid, 0, 0, 1, expiresAt] : [sid, entry.generation, entry.renewedAt, 0, expiresAt])
    }
    for (const [sub, entry] of this.subjects) if (entry.expiresAt > now) subjects.push([sub, entry.cutoff, entry.expiresAt])
    return { sessions, subjects }
  }

  /** Drops every expired entry; at most once a second, so a full store of live entries stays cheap. */
  private sweep (now: number): void {
    if (now === this.sweptAt) return
    this.sweptAt = now
    for (const [key, value] of this.sessions) if (sessionExpiry(value) <= now) this.sessions.delete(key)
    for (const [key, value] of this.subjects) if (value.expiresAt <= now) this.subjects.delete(key)
    this.#lodger?.sweep(now)
  }
}

/** Drops the expired entries at the front: cheap, and it keeps the map near its live size. */
function dropExpiredFront<V> (map: Map<string, V>, expiryOf: (value: V) => number, now: number): void {
  for (const [key, value] of map) {
    if (expiryOf(value) > now) return
    map.delete(key)
  }
}
