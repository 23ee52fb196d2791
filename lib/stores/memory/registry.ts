import type { MemorySessionRegistry, SessionEntry, SessionFold } from '../../types'
import type { Lodger, SessionTables } from './tables'

/** An ended session as the registry counts it: its login (µs) and when it may be dropped (s). */
interface Ended {
  readonly createdAt: number
  readonly expiresAt: number
}

/** What `add` answers when it evicts nothing. */
const NONE: readonly SessionEntry[] = Object.freeze([])

/** Whole seconds since the epoch. */
const seconds = (): number => Math.floor(Date.now() / 1000)

/** Removes `map`'s entries whose `expiresAt` has passed; answers how many. */
function removeExpired (map: Map<string, { readonly expiresAt: number }>, now: number): number {
  let dropped = 0
  for (const [sid, value] of map) {
    if (value.expiresAt > now) continue
    map.delete(sid)
    dropped++
  }
  return dropped
}

/**
 * The memory store's registry of each user's sessions. Its entries (live and ended) count
 * under the store's `maxEntries` together with the revocation tables, so that a flood of
 * logins by many users cannot grow the process's memory past that bound: a login that finds
 * the store full fails closed (503). Each entry is dropped once its `expiresAt` has passed.
 *
 * A login is on every user's path, and this process may hold many users: it reads one map
 * per user and nothing else of the user's (each a cache miss in a large store). Expired
 * entries are dropped when the user is read (a list, an end, a login at the cap), or when the
 * store is full. A user's ended sessions live in a map of their own, made at the first end.
 */
export class MemoryRegistry implements MemorySessionRegistry, Lodger {
  private readonly liveSessions = new Map<string, Map<string, SessionEntry>>()
  private readonly endedSessions = new Map<string, Map<string, Ended>>()
  private count = 0
  // A true private field: the store stays printable (JSON.stringify, util.inspect) with no cycle.
  readonly #tables: SessionTables

  constructor (tables: SessionTables) {
    this.#tables = tables
    tables.lodge(this)
  }

  /** Entries held, every user's live and ended sessions. */
  get size (): number {
    return this.count
  }

  held (sub: string): number {
    this.dropExpired(sub, seconds())
    return (this.liveSessions.get(sub)?.size ?? 0) + (this.endedSessions.get(sub)?.size ?? 0)
  }

  add (sub: string, entry: SessionEntry, max: number): readonly SessionEntry[] {
    const now = seconds()
    if (this.liveSessions.get(sub)?.has(entry.sid) !== true) {
      this.#tables.makeRoom(now)
      this.count++
    }
    // Looked up after making room, whose sweep drops a user's maps once empty: a map the
    // registry no longer holds would leave the session working unlisted, and counted for good.
    let sessions = this.liveSessions.get(sub)
    if (sessions === undefined) this.liveSessions.set(sub, sessions = new Map())
    sessions.set(entry.sid, Object.freeze({ ...entry }))
    if (sessions.size <= max) return NONE
    // At the cap: the expired ones go first, then the least recently used; the session just
    // listed is never one of them.
    this.dropExpired(sub, now)
    if (sessions.size <= max) return NONE
    const others = [...sessions.values()].filter((other) => other.sid !== entry.sid).sort((a, b) => a.lastSeenAt - b.lastSeenAt)
    const evicted = others.slice(0, sessions.size - max)
    for (const old of evicted) this.drop(sessions, old.sid)
    return evicted
  }

  touch (sub: string, entry: SessionEntry): void {
    const sessions = this.liveSessions.get(sub)
    const listed = sessions?.get(entry.sid)
    // An ended session stays ended: a renewal racing its end does not list it again.
    if (sessions === undefined || listed === undefined || listed.expiresAt <= seconds()) return
    sessions.set(entry.sid, Object.freeze({ ...entry, createdAt: listed.createdAt }))
  }

  list (sub: string): readonly SessionEntry[] {
    this.dropExpired(sub, seconds())
    const sessions = this.liveSessions.get(sub)
    return sessions === undefined ? [] : [...sessions.values()]
  }

  ended (sub: string, sid: string, createdAt: number, expiresAt: number, max: number): SessionFold | undefined {
    const now = seconds()
    this.dropExpired(sub, now)
    const wasLive = this.liveSessions.get(sub)
    if (wasLive !== undefined) this.drop(wasLive, sid)
    const held = this.endedSessions.get(sub)?.get(sid)
    if (held === undefined) {
      this.#tables.makeRoom(now)
      this.count++
    }
    // The maps looked up after making room, whose sweep drops a user's maps once empty (as in `add`).
    const live = this.liveSessions.get(sub)
    let ended = this.endedSessions.get(sub)
    if (ended === undefined) this.endedSessions.set(sub, ended = new Map())
    ended.set(sid, { createdAt, expiresAt: Math.max(expiresAt, held?.expiresAt ?? 0) })
    if (ended.size <= max) return undefined
    // The oldest logins past `max` fold into one cut-off: the newest login among them. Nothing
    // leaves the registry yet: a live session stays listed until the cut-off that ends it is
    // recorded (`forget`), so that a fold the store fails to record leaves it visible and ended
    // by `{ others: true }`.
    const byLogin = [...ended.values()].map((each) => each.createdAt).sort((a, b) => a - b)
    const cutoff = byLogin[ended.size - max - 1] as number
    const sids: string[] = []
    for (const map of [ended, live]) {
      if (map !== undefined) for (const [other, value] of map) if (value.createdAt <= cutoff) sids.push(other)
    }
    return Object.freeze({ cutoff, sids: Object.freeze(sids) })
  }

  forget (sub: string, sids: readonly string[]): void {
    // Only what a cut-off of the user covers: called out of order, it forgets nothing. A
    // session's revocation goes with its entry, and only then: one the registry does not hold,
    // or that logged in after the cut-off, keeps it (it expires on its own), whatever the caller named.
    const cutoff = this.#tables.subject(sub)
    if (cutoff === undefined) return
    for (const map of [this.endedSessions.get(sub), this.liveSessions.get(sub)]) {
      if (map === undefined) continue
      for (const sid of sids) {
        const createdAt = map.get(sid)?.createdAt
        if (createdAt === undefined || createdAt > cutoff) continue
        this.drop(map, sid)
        this.#tables.forgetSession(sid)
      }
    }
    this.dropExpired(sub, seconds())
  }

  /** Drops every expired entry (the tables call it when their bound is reached). */
  sweep (now: number): void {
    for (const sub of new Set([...this.liveSessions.keys(), ...this.endedSessions.keys()])) this.dropExpired(sub, now)
  }

  /** Drops `sub`'s expired entries, and its maps once empty. */
  private dropExpired (sub: string, now: number): void {
    for (const maps of [this.liveSessions, this.endedSessions] as Array<Map<string, Map<string, { readonly expiresAt: number }>>>) {
      const map = maps.get(sub)
      if (map === undefined) continue
      this.count -= removeExpired(map, now)
      if (map.size === 0) maps.delete(sub)
    }
  }

  /** Removes `sid` from `map`, counting it out if it was there. */
  private drop (map: Map<string, unknown>, sid: string): void {
    if (map.delete(sid)) this.count--
  }
}
