import { LogoutUnsupportedError, RevokedTokenError, StoreUnavailableError } from '../errors'
import { CLOCK_SKEW, microClock } from '../jwt/clock'
import type { VerifiedToken } from '../jwt/token-service'
import { channels, timeStoreCall } from '../ops/channels'
import type { ResolvedOptions } from '../options/resolved'
import type { RevocationStore, SessionClaims } from '../types'
import { createExpiry } from './expiry'
import { judge, judgeRenewal, sessionRecord, subjectCutoff } from './records'
import { callStore, callStoreNow, isThenable, withTimeout } from './store-calls'

/**
 * How a renewal went at the store: `renewed` (this call advanced the session, or another did
 * within the grace: sign the next generation), `ended` (the session was logged out) or
 * `replayed` (a retired token renewed after the grace: someone else holds a copy).
 */
export type RenewalOutcome = 'renewed' | 'ended' | 'replayed'

/**
 * The plugin's side of the revocation store: sessions as the unit of revocation, and the
 * fail-closed rules. Without a store nothing is revoked, every revoke rejects with 501, and
 * a renewal retires nothing.
 */
export interface Revocations {
  /** For `authenticate`: throws (or rejects with) the documented error when the token is refused or the store fails. */
  check (token: VerifiedToken): void | Promise<void>
  /**
   * For a renewal, before `loadUser`: as `check`, but a retired generation is left to
   * {@link Revocations.renew}, and a renewal of the newest generation less than a second after
   * it was reached is refused (429).
   */
  checkRenewable (claims: SessionClaims): Promise<void>
  /** For a logout of the token's own session: as `checkRenewable`, with no limit on how soon. */
  checkEndable (claims: SessionClaims): Promise<void>
  /** As `check`, for claims already verified: a logout of every session, which a retired token may not ask for. */
  checkCurrent (claims: SessionClaims): Promise<void>
  /**
   * The cut-off (µs) a new login of `sub` must lie after: the user's, from the store (failing
   * closed, synchronous when the store is), or one this process recorded; 0 or undefined for none.
   */
  loginCutoff (sub: unknown): number | undefined | Promise<number | undefined>
  /**
   * As `loginCutoff`, at once, for `jwtAuth.sign()`: when the store answers with a promise
   * (which cannot be waited for) or fails, only the cut-offs this process recorded are known.
   */
  loginCutoffNow (sub: unknown): number | undefined
  /** Records the renewal of `claims` at the store and says what came of it. */
  renew (claims: SessionClaims): Promise<RenewalOutcome>
  /** Ends the token's session: every token of its `sid`. */
  end (claims: SessionClaims): Promise<void>
  /**
   * Ends every session of `sub` logged in until now by any clock within {@link CLOCK_SKEW},
   * every session logged in past an earlier cut-off, and at least until `notBefore` (µs).
   */
  endSubject (sub: string, notBefore?: number): Promise<void>
}

const cannotRevoke = async (): Promise<never> => { throw new LogoutUnsupportedError() }
const nothing = (): undefined => undefined
const nothingYet = async (): Promise<void> => {}

/** Without a store nothing is revoked, and nothing can be; a renewal retires nothing. */
const WITHOUT_STORE: Revocations = Object.freeze({
  check: nothing,
  checkRenewable: nothingYet,
  checkEndable: nothingYet,
  checkCurrent: nothingYet,
  loginCutoff: nothing,
  loginCutoffNow: nothing,
  renew: async () => 'renewed' as const,
  end: cannotRevoke,
  endSubject: cannotRevoke
})

/** Ignores a rejection that nobody else will wait for, once the request has failed already. */
const ignore = (): void => {}

/** What a store's answers (a session's record, a user's cut-off) mean for a token: throws to refuse it. */
type Verdict = (record: unknown, cutoff: unknown, claims: SessionClaims) => void

/** Binds the plugin's session rules to the configured store, if any. */
export function createRevocations (options: ResolvedOptions): Revocations {
  const { revocationStore, storeTimeout, clockTolerance, renewGrace } = options
  if (revocationStore === undefined) return WITHOUT_STORE
  const store: RevocationStore = revocationStore
  const graceUs = renewGrace * 1_000_000
  const expiry = createExpiry(options)

  /** The judgements, built once: a request costs no closure. */
  const current: Verdict = (record, cutoff, claims) => { judge(record, cutoff, claims, graceUs) }
  const endable: Verdict = (record, cutoff, claims) => { judge(record, cutoff, claims) }

  /**
   * The cut-offs (µs) this process recorded, still ahead of the clock, oldest first: a login
   * signed by `jwtAuth.sign()` cannot wait for a store that answers with a promise, and must
   * still lie after a logout-all this process just answered.
   */
  const recent = new Map<string, number>()

  /** Remembers `cutoff` for `sub`, and forgets those the clock has passed (they no longer raise a login). */
  function remember (sub: string, cutoff: number): void {
    const now = Date.now() * 1000
    for (const [name, value] of recent) {
      if (value >= now) break
      recent.delete(name)
    }
    recent.delete(sub)
    recent.set(sub, cutoff)
  }

  /** The later of the store's cut-off for `sub` and the one this process recorded; 0 for none. */
  function later (sub: string, stored: number | undefined): number {
    return Math.max(stored ?? 0, recent.get(sub) ?? 0)
  }

  /**
   * Asks the store about the token's session and user, both at once; judged at once when the
   * store answers at once.
   */
  function ask (claims: SessionClaims, verdict: Verdict): void | Promise<void> {
    let record: ReturnType<RevocationStore['session']>
    let cutoff: ReturnType<RevocationStore['subject']>
    try {
      record = store.session(claims.sid)
    } catch (cause) {
      throw new StoreUnavailableError({ cause })
    }
    try {
      cutoff = store.subject(claims.sub)
    } catch (cause) {
      if (isThenable(record)) record.then(ignore, ignore)
      throw new StoreUnavailableError({ cause })
    }
    // A synchronous store (the memory store, the Redis mirror) costs no closure, promise or timer.
    if (!isThenable(record) && !isThenable(cutoff)) return verdict(record, cutoff, claims)
    // Both answers waited for together, under one timeout.
    const both = withTimeout(Promise.all([record, cutoff]), storeTimeout)
    // Timed for a subscriber only, as one store call (both reads were asked at once); a
    // synchronous store above costs not even this check.
    const answered = channels.storeCall.hasSubscribers ? timeStoreCall(performance.now(), both) : both
    return answered.then(([session, latest]) => verdict(session, latest, claims))
  }

  return Object.freeze({
    check: (token: VerifiedToken) => ask(token.claims, current),
    async checkRenewable (claims: SessionClaims) {
      await ask(claims, judgeRenewal)
    },
    async checkEndable (claims: SessionClaims) {
      await ask(claims, endable)
    },
    async checkCurrent (claims: SessionClaims) {
      await ask(claims, current)
    },
    loginCutoff (sub: unknown) {
      // A malformed user is refused by the signing that follows, as the host's bug (500), not as an outage.
      if (typeof sub !== 'string') return undefined
      const stored = callStoreNow(() => store.subject(sub), storeTimeout)
      return isThenable(stored) ? stored.then((value) => later(sub, subjectCutoff(value))) : later(sub, subjectCutoff(stored))
    },
    loginCutoffNow (sub: unknown) {
      if (typeof sub !== 'string') return undefined
      try {
        const stored = store.subject(sub)
        if (!isThenable(stored)) return later(sub, subjectCutoff(stored))
        // Nobody waits for it: its failure or its late answer must not become an unhandled rejection.
        stored.then(ignore, ignore)
      } catch {
        // Signed all the same: a token stamped before a cut-off it could not read is refused
        // (the user signs in again), never let through; and an outage must not stop the host
        // signing, which it may do while the store is away.
      }
      return recent.get(sub)
    },
    async renew (claims: SessionClaims): Promise<RenewalOutcome> {
      const at = microClock()
      const record = sessionRecord(await callStore(() => store.renew(claims.sid, claims.gen, at, expiry.session(claims.auth_time)), storeTimeout))
      if (record === undefined || (!record.ended && record.generation <= claims.gen)) {
        throw new StoreUnavailableError({ cause: new TypeError('the store\'s renew() did not advance the session') })
      }
      if (record.ended) return 'ended'
      if (record.generation !== claims.gen + 1 || (record.renewedAt !== at && at - record.renewedAt >= graceUs)) return 'replayed'
      // A logout of every session may have come while `loadUser` ran: the token about to be
      // signed carries the old login time, and the cut-off's entry is sized for tokens issued
      // before it, so the renewal is refused rather than outlive it.
      const latest = subjectCutoff(await callStore(() => store.subject(claims.sub), storeTimeout))
      if (latest !== undefined && claims.auth_us <= latest) throw new RevokedTokenError()
      return 'renewed'
    },
    async end (claims: SessionClaims) {
      // A host's jwtAuth.revoke() may pass anything, not a verified token's claims: a login
      // time no token of ours carries is refused, and no time in the claims shortens the
      // entry (one computed from an old auth_time would be dropped at once, the revocation
      // forgotten while the call said it was made): it is kept as long as a token issued now.
      const authTime = claims?.auth_time
      if (
        typeof claims?.sid !== 'string' || claims.sid === '' || !Number.isSafeInteger(authTime) || authTime <= 0 ||
        authTime > Date.now() / 1000 + clockTolerance
      ) {
        throw new TypeError('revoking a session needs the claims of a verified token (sid and auth_time)')
      }
      await callStore(() => store.end(claims.sid, expiry.end()), storeTimeout)
    },
    async endSubject (sub: string, notBefore = 0) {
      if (typeof sub !== 'string' || sub === '') throw new TypeError('revoking a user needs a non-empty sub')
      const latest = subjectCutoff(await callStore(() => store.subject(sub), storeTimeout))
      // Ahead of this clock by the bound, so that a login stamped by a clock that far ahead is
      // still covered; never before the login of the session that asks (a clock stepped back
      // must not leave it standing); and past the cut-off before it, which a login may have
      // been stamped just after (see `loginCutoff`).
      const cutoff = Math.max(microClock() + CLOCK_SKEW, notBefore, latest === undefined ? 0 : latest + 1)
      // Kept until a token stamped at the cut-off, by a clock within the bound, can no longer be used or renewed.
      await callStore(() => store.endSubject(sub, cutoff, expiry.cutoff(cutoff)), storeTimeout)
      remember(sub, cutoff)
      // The store may have kept a later one (past a cut-off this process had not heard of yet):
      // `jwtAuth.sign()` must stamp past that one too.
      const kept = subjectCutoff(await callStore(() => store.subject(sub), storeTimeout))
      if (kept !== undefined && kept > cutoff) remember(sub, kept)
    }
  })
}
