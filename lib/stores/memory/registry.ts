import type { MemorySessionRegistry, SessionEntry, SessionFold } from '../../types'
import type { Lodger, SessionTables } from './tables'

/** An ended session as the registry counts it: its login (µs) and when it may be dropped (s). */
interface Ended {
  readonly createdAt: number
  readonly expiresAt: number
}

/**
 * One user's sessions: the live ones, and the ended ones not yet folded into a cut-off (made
 * at the first end: most users hold a session or two and never need it).
 */
interface UserSessions {
  readonly live: Map<string, SessionEntry>
  ended: Map<string, Ended> | undefined
}

/** Whole seconds since the epoch. */
const seconds = (): number => Math.floor(Date.now() / 1000)

/**
 * The memory store's registry of each user's sessions. Its entries (live and ended) count
 * under the store's `maxEntries` together with the revocation tables, so that a flood of
 * logins by many users cannot grow the process's memory past that bound: a login that finds
 * the store full fails closed (503). Each entry is dropped once its `expiresAt` has passed.
 */
export class MemoryRegistry implements MemorySessionRegistry, Lodger {
  private readonly users = new Map<string, UserSessions>()
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
    const user = this.current(sub, seconds())
    return user === undefined ? 0 : user.live.size + (user.ended?.size ?? 0)
  }

  add (sub: string, entry: SessionEntry, max: number): readonly SessionEntry[] {
    const now = seconds()
    const user = this.current(sub, now) ?? this.newUser(sub)
    if (!user.live.has(entry.sid)) {
      this.#tables.makeRoom(now)
      this.count++
    }
    user.live.set(entry.sid, Object.freeze({ ...entry }))
    if (user.live.size <= max) return []
    // The least recently used go first; the session just listed is never one of them.
    const others = [...user.live.values()].filter((other) => other.sid !== entry.sid).sort((a, b) => a.lastSeenAt - b.lastSeenAt)
    const evicted = others.slice(0, user.live.size - max)
    for (const old of evicted) this.drop(user.live, old.sid)
    return evicted
  }

  touch (sub: string, entry: SessionEntry): void {
    const listed = this.current(sub, seconds())?.live.get(entry.sid)
    // An ended session stays ended: a renewal racing its end does not list it again.
    if (listed === undefined) return
    this.users.get(sub)?.live.set(entry.sid, Object.freeze({ ...entry, createdAt: listed.createdAt }))
  }

  list (sub: string): readonly SessionEntry[] {
    const user = this.current(sub, seconds())
    return user === undefined ? [] : [...user.live.values()]
  }

  ended (sub: string, sid: string, createdAt: number, expiresAt: number, max: number): SessionFold | undefined {
    const now = seconds()
    const user = this.current(sub, now) ?? this.newUser(sub)
    this.drop(user.live, sid)
    const ended = user.ended ??= new Map()
    const held = ended.get(sid)
    if (held === undefined) {
      this.#tables.makeRoom(now)
      this.count++
    }
    ended.set(sid, { createdAt, expiresAt: Math.max(expiresAt, held?.expiresAt ?? 0) })
    if (ended.size <= max) return undefined
    // The oldest logins past `max` fold into one cut-off: the newest login among them. Nothing
    // leaves the registry yet: a live session stays listed until the cut-off that ends it is
    // recorded (`forget`), so that a fold the store fails to record leaves it visible and ended
    // by `{ others: true }`.
    const byLogin = [...ended.values()].map((each) => each.createdAt).sort((a, b) => a - b)
    const cutoff = byLogin[ended.size - max - 1] as number
    const sids: string[] = []
    for (const map of [ended, user.live] as Array<Map<string, { createdAt: number }>>) {
      for (const [other, value] of map) if (value.createdAt <= cutoff) sids.push(other)
    }
    return Object.freeze({ cutoff, sids: Object.freeze(sids) })
  }

  forget (sub: string, sids: readonly string[]): void {
    // Only what a cut-off of the user covers: called out of order, it forgets nothing.
    const cutoff = this.#tables.subject(sub)
    if (cutoff === undefined) return
    const user = this.users.get(sub)
    for (const sid of sids) {
      if (user !== undefined) {
        for (const map of [user.ended, user.live]) {
          const createdAt = map?.get(sid)?.createdAt
          if (createdAt !== undefined && createdAt <= cutoff) this.drop(map as Map<string, unknown>, sid)
        }
      }
      this.#tables.forgetSession(sid)
    }
  }

  /** Drops every expired entry (the tables call it when their bound is reached). */
  sweep (now: number): void {
    for (const sub of [...this.users.keys()]) this.current(sub, now)
  }

  /** `sub`'s sessions with the expired ones dropped, or undefined when none is left. */
  private current (sub: string, now: number): UserSessions | undefined {
    const user = this.users.get(sub)
    if (user === undefined) return undefined
    for (const [sid, value] of user.live) if (value.expiresAt <= now) this.drop(user.live, sid)
    if (user.ended !== undefined) for (const [sid, value] of user.ended) if (value.expiresAt <= now) this.drop(user.ended, sid)
    if (user.live.size > 0 || (user.ended?.size ?? 0) > 0) return user
    this.users.delete(sub)
    return undefined
  }

  private newUser (sub: string): UserSessions {
    const user: UserSessions = { live: new Map(), ended: undefined }
    this.users.set(sub, user)
    return user
  }

  /** Removes `sid` from `map`, counting it out if it was there. */
  private drop (map: Map<string, unknown>, sid: string): void {
    if (map.delete(sid)) this.count--
  }
}
