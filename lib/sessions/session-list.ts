import { LogoutUnsupportedError, StoreUnavailableError } from '../errors'
import type { ResolvedOptions } from '../options/resolved'
import type { RevocationStore, SessionClaims, SessionEntry, SessionFold, SessionInfo, SessionRegistry } from '../types'
import { latestAuthUs } from '../jwt/clock'
import { createExpiry } from './expiry'
import { subjectCutoff } from './records'
import type { Revocations } from './revocations'
import { callStore, callStoreNow, isThenable } from './store-calls'

/** What a session's listing needs of its claims. */
export type SessionStart = Pick<SessionClaims, 'sub' | 'sid' | 'auth_time' | 'auth_us'>

/** Where a client was seen: `request.ip` and its `user-agent` header. */
export interface Seen {
  readonly ip: string
  readonly userAgent: string
}

/**
 * The sessions a user can see and end, and the one way every session ends: the store ends it
 * first (the revocation, which must hold before any answer), then the registry counts it
 * ended; when the registry folds the user's oldest ended sessions into a cut-off, the cut-off
 * is recorded (`endSubject`) before the registry drops them and the store forgets their
 * entries (`forget`): a live session the cut-off covers stays listed till then. A registry that fails
 * after the end answers 503: the end holds all the same. Without a registry, ending is the
 * store's `end` alone, and the listing methods reject with 501.
 */
export interface SessionList {
  /** Whether the store has a registry. */
  readonly available: boolean
  /** Ends the session of `claims` (logout, a replay, `loadUser` answering null, `jwtAuth.revoke`). */
  end (claims: SessionClaims): Promise<void>
  /** Ends one of `sub`'s listed sessions (`DELETE /@sessions/:id`, `{ others: true }`, an eviction, `endSession`). */
  endListed (sub: string, entry: SessionEntry): Promise<void>
  /**
   * Lists a new login's session; answers the sessions evicted past `maxSessionsPerUser`, already
   * ended. Synchronous when the registry is and evicts nothing (the memory store's common case):
   * a login pays no promise for it.
   */
  add (claims: SessionStart, seen: Seen): readonly SessionEntry[] | Promise<readonly SessionEntry[]>
  /** A renewal: the session's `lastSeenAt`, `ip`, `userAgent` and `expiresAt` now. */
  touch (claims: SessionClaims, seen: Seen): Promise<void>
  /** `sub`'s live sessions, newest login first. */
  list (sub: string): Promise<readonly SessionEntry[]>
}

/** A listed session as the route and `jwtAuth.sessions()` answer it: times in ISO 8601. */
export function describeSession (entry: SessionEntry): SessionInfo {
  return {
    id: entry.sid,
    createdAt: new Date(entry.createdAt / 1000).toISOString(),
    lastSeenAt: new Date(entry.lastSeenAt / 1000).toISOString(),
    expiresAt: new Date(entry.expiresAt * 1000).toISOString(),
    ip: entry.ip,
    userAgent: entry.userAgent
  }
}

/** The registry's answer checked: a store that answers nonsense fails closed. */
function checkedFold (fold: unknown): SessionFold | undefined {
  if (fold === undefined || fold === null) return undefined
  const { cutoff, sids } = fold as Partial<SessionFold>
  if (typeof cutoff !== 'number' || !Number.isSafeInteger(cutoff) || !Array.isArray(sids)) {
    throw new StoreUnavailableError({ cause: new TypeError('the registry\'s ended() answered something other than a fold') })
  }
  return fold as SessionFold
}

/** The registry's list checked, then sorted newest login first (an empty one, a login's usual answer, as it is). */
function checkedList (entries: unknown): readonly SessionEntry[] {
  if (!Array.isArray(entries)) throw new StoreUnavailableError({ cause: new TypeError('the registry answered something other than a list') })
  return entries.length === 0 ? entries : [...entries as SessionEntry[]].sort((a, b) => b.createdAt - a.createdAt)
}

/** 501: the store keeps no list of sessions. */
const noRegistry = async (): Promise<never> => {
  throw Object.assign(new LogoutUnsupportedError(), { message: 'Listing or ending sessions needs a revocation store with a session registry' })
}

/** Binds the session list to the store's registry, if it has one. */
export function createSessionList (options: ResolvedOptions, revocations: Revocations): SessionList {
  const { registry: maybeRegistry, revocationStore, storeTimeout, maxSessionsPerUser: max } = options
  if (maybeRegistry === undefined || revocationStore === undefined) {
    // The routes ask `available` before they add or touch: every method but `end` is the 501.
    return Object.freeze({ available: false, end: revocations.end, endListed: noRegistry, add: noRegistry, touch: noRegistry, list: noRegistry })
  }
  const registry: SessionRegistry = maybeRegistry
  const store: RevocationStore = revocationStore
  const expiry = createExpiry(options)

  /** After the store ended `sid`: the registry counts it ended, and a fold is recorded before anything is forgotten. */
  async function ended (sub: string, sid: string, createdAt: number, expiresAt: number): Promise<void> {
    const fold = checkedFold(await callStore(() => registry.ended(sub, sid, createdAt, expiresAt, max), storeTimeout))
    if (fold === undefined) return
    const held = subjectCutoff(await callStore(() => store.subject(sub), storeTimeout))
    // Not when the user's cut-off already covers the fold: the store would record one past it.
    if (held === undefined || held < fold.cutoff) {
      await callStore(() => store.endSubject(sub, fold.cutoff, expiry.cutoff(fold.cutoff)), storeTimeout)
    }
    await callStore(() => registry.forget(sub, fold.sids), storeTimeout)
  }

  /** The registry's entry for a session as seen now. */
  function entryOf (claims: SessionStart, seen: Seen, lastSeenAt: number): SessionEntry {
    return { sid: claims.sid, createdAt: claims.auth_us, lastSeenAt, expiresAt: expiry.session(claims.auth_time), ip: seen.ip, userAgent: seen.userAgent }
  }

  async function endListed (sub: string, entry: SessionEntry): Promise<void> {
    const expiresAt = expiry.end()
    await callStore(() => store.end(entry.sid, expiresAt), storeTimeout)
    await ended(sub, entry.sid, entry.createdAt, expiresAt)
  }

  /**
   * Ends the sessions a login evicted, which the registry has already taken off the list. When
   * the store fails to end one, it and those after it are listed again before the login fails
   * (503): a session that still works must stay one the user can see and end, and that
   * `{ others: true }` ends. Listing them again is best effort: the store's error is the answer.
   */
  async function endEvictions (sub: string, evicted: readonly SessionEntry[]): Promise<readonly SessionEntry[]> {
    for (const [index, entry] of evicted.entries()) {
      const expiresAt = expiry.end()
      try {
        await callStore(() => store.end(entry.sid, expiresAt), storeTimeout)
      } catch (error) {
        for (const kept of evicted.slice(index)) {
          // A cap no list reaches: listing it again evicts nothing.
          await callStore(() => registry.add(sub, kept, Number.MAX_SAFE_INTEGER), storeTimeout).catch(() => {})
        }
        throw error
      }
      await ended(sub, entry.sid, entry.createdAt, expiresAt)
    }
    return evicted
  }

  return Object.freeze({
    available: true,
    async end (claims: SessionClaims) {
      await revocations.end(claims)
      // A host's jwtAuth.revoke() may pass claims without a sub: the end holds, and no list has it.
      if (typeof claims.sub !== 'string') return
      // A host's jwtAuth.revoke() may pass claims without auth_us: the latest one a token of its
      // second may carry. A fold's cut-off is taken from these times and its sessions'
      // revocations are then forgotten: an earlier time would leave the token past the cut-off,
      // and working again.
      const createdAt = Number.isSafeInteger(claims.auth_us) ? claims.auth_us : latestAuthUs(claims.auth_time)
      await ended(claims.sub, claims.sid, createdAt, expiry.end())
    },
    endListed,
    add (claims: SessionStart, seen: Seen) {
      const answer = callStoreNow(() => registry.add(claims.sub, entryOf(claims, seen, claims.auth_us), max), storeTimeout)
      const endEvicted = (evicted: unknown): readonly SessionEntry[] | Promise<readonly SessionEntry[]> => {
        const list = checkedList(evicted)
        return list.length === 0 ? list : endEvictions(claims.sub, list)
      }
      return isThenable(answer) ? answer.then(endEvicted) : endEvicted(answer)
    },
    async touch (claims: SessionClaims, seen: Seen) {
      await callStore(() => registry.touch(claims.sub, entryOf(claims, seen, Date.now() * 1000)), storeTimeout)
    },
    list: async (sub: string) => checkedList(await callStore(() => registry.list(sub), storeTimeout))
  })
}
