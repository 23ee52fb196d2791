import { ENDED, SessionTables } from '../stores/memory/tables'
import type { RevocationStore } from '../types'
import { EVENT_TYPES, type FeedSet } from './events'

/** A read of the copy while it cannot vouch for itself: the request fails closed (503). */
class NotCurrentError extends Error {
  override name = 'RevocationFeedNotCurrentError'
}

/** Writes go to the issuer, never to a follower's copy. */
const readOnly = (): never => { throw new Error('a followed revocation feed is read-only: revoke at the issuer') }

/** Whole seconds since the epoch. */
const seconds = (): number => Math.floor(Date.now() / 1000)

/** Every field of the feed's event bodies, as the schema of `events.ts` guarantees them for each type. */
interface Body {
  expires_at: number
  generation: number
  renewed_at_us: number
  cutoff_us: number
  sessions: Array<[string, number, number, 0 | 1, number]>
  subjects: Array<[string, number, number]>
  last: boolean
}

/**
 * A follower's copy of the issuer's revocations, kept in the memory store's tables and judged by
 * the same session rules. Reads throw (503) before the first complete snapshot and its
 * heartbeat, after a reconnect until the issuer's first heartbeat (it has sent what was
 * missed), and while no verified event came for longer than `maxStaleness`.
 */
export class FeedCopy {
  private tables = new SessionTables(Infinity)
  /** A snapshot being received: it replaces the copy once its last chunk is in. */
  private staging: SessionTables | undefined
  private complete = false
  private caughtUp = false
  /** When the last verified event came (ms). */
  lastWord = -Infinity

  constructor (private readonly maxStaleness: number) {}

  /** Whether reads may be answered now. */
  get current (): boolean {
    return this.complete && this.caughtUp && Date.now() - this.lastWord <= this.maxStaleness
  }

  /** A new connection: nothing is vouched for until its first heartbeat; a snapshot half received is dropped. */
  reconnecting (): void {
    this.caughtUp = false
    this.staging = undefined
  }

  /** Applies one verified SET. */
  apply (set: FeedSet): void {
    this.lastWord = Date.now()
    const [type, event] = Object.entries(set.events)[0] as [string, Body]
    const id = (set as { sub_id?: { id: string } }).sub_id?.id as string
    const now = seconds()
    switch (type) {
      case EVENT_TYPES.sessionRevoked:
        this.tables.setSession(id, ENDED, event.expires_at, now)
        break
      case EVENT_TYPES.sessionRenewed:
        // The history is in order, and records a renewal only when it moved the session on.
        this.tables.setSession(id, { generation: event.generation, renewedAt: event.renewed_at_us, ended: false }, event.expires_at, now)
        break
      case EVENT_TYPES.subjectRevoked:
        this.tables.raiseSubject(id, event.cutoff_us, event.expires_at, now)
        break
      case EVENT_TYPES.snapshot:
        this.snapshot(event, now)
        break
      default:
        this.caughtUp = true
    }
  }

  private snapshot (event: Body, now: number): void {
    const staging = this.staging ??= new SessionTables(Infinity)
    for (const [sid, generation, renewedAt, ended, expiresAt] of event.sessions) {
      staging.setSession(sid, ended === 1 ? ENDED : { generation, renewedAt, ended: false }, expiresAt, now)
    }
    for (const [sub, cutoff, expiresAt] of event.subjects) staging.raiseSubject(sub, cutoff, expiresAt, now)
    if (!event.last) return
    this.tables = staging
    this.staging = undefined
    this.complete = true
  }

  /** The copy as the plugin's session rules read it: a synchronous, read-only store. */
  store (): RevocationStore {
    const vouch = (): void => {
      if (!this.current) throw new NotCurrentError('the revocation feed is not current')
    }
    return Object.freeze({
      session: (sid: string) => {
        vouch()
        return this.tables.session(sid)
      },
      subject: (sub: string) => {
        vouch()
        return this.tables.subject(sub)
      },
      renew: readOnly,
      end: readOnly,
      endSubject: readOnly
    })
  }
}
