import { LogoutUnsupportedError, RevokedTokenError, StoreUnavailableError } from '../errors'
import { microClock } from '../jwt/clock'
import type { VerifiedToken } from '../jwt/token-service'
import type { ResolvedOptions } from '../options/resolved'
import type { RevocationStore, SessionClaims } from '../types'
import { judge, sessionRecord, subjectCutoff } from './records'
import { callStore, isThenable, withTimeout } from './store-calls'

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
  /** For a renewal, before `loadUser`: as `check`, but a retired generation is left to {@link Revocations.renew}. */
  checkRenewable (claims: SessionClaims): Promise<void>
  /** Records the renewal of `claims` at the store and says what came of it. */
  renew (claims: SessionClaims): Promise<RenewalOutcome>
  /** Ends the token's session: every token of its `sid`. */
  end (claims: SessionClaims): Promise<void>
  /** Ends every session of `sub` logged in until now, and at least until `notBefore` (microseconds). */
  endSubject (sub: string, notBefore?: number): Promise<void>
}

const cannotRevoke = async (): Promise<never> => { throw new LogoutUnsupportedError() }

/** Without a store nothing is revoked, and nothing can be; a renewal retires nothing. */
const WITHOUT_STORE: Revocations = Object.freeze({
  check: () => undefined,
  checkRenewable: async () => {},
  renew: async () => 'renewed' as const,
  end: cannotRevoke,
  endSubject: cannotRevoke
})

/** Ignores a rejection that nobody else will wait for, once the request has failed already. */
const ignore = (): void => {}

/** Binds the plugin's session rules to the configured store, if any. */
export function createRevocations (options: ResolvedOptions): Revocations {
  const { revocationStore, storeTimeout, clockTolerance, expiresIn, maxSessionAge, renewGrace, idleTimeout } = options
  if (revocationStore === undefined) return WITHOUT_STORE
  const store: RevocationStore = revocationStore
  const graceUs = renewGrace * 1_000_000
  // Past a token's `exp`, how long it can still be used or renewed, or stand within the grace.
  const afterExp = idleTimeout + renewGrace + clockTolerance

  /** When a session's entry may go: no token of it can be used or renewed after that (seconds). */
  function sessionExpiry (authTime: number): number {
    return Math.ceil(Math.min(Date.now() / 1000 + expiresIn, authTime + maxSessionAge) + afterExp)
  }

  /**
   * Asks the store about the token's session and user, both at once; judged at once when the
   * store answers at once. `grace` (µs): see `judge`; undefined for a renewal.
   */
  function ask (claims: SessionClaims, grace: number | undefined): void | Promise<void> {
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
    if (!isThenable(record) && !isThenable(cutoff)) return judge(record, cutoff, claims, grace)
    // Both answers waited for together, under one timeout.
    return withTimeout(Promise.all([record, cutoff]), storeTimeout).then(([session, latest]) => judge(session, latest, claims, grace))
  }

  return Object.freeze({
    check: (token: VerifiedToken) => ask(token.claims, graceUs),
    async checkRenewable (claims: SessionClaims) {
      await ask(claims, undefined)
    },
    async renew (claims: SessionClaims): Promise<RenewalOutcome> {
      const at = microClock()
      const record = sessionRecord(await callStore(() => store.renew(claims.sid, claims.gen, at, sessionExpiry(claims.auth_time)), storeTimeout))
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
      // A host's jwtAuth.revoke() may pass anything: an entry with no expiry would be dropped
      // at once, and the revocation forgotten while the call said it was made.
      if (typeof claims?.sid !== 'string' || claims.sid === '' || !Number.isFinite(claims.auth_time)) {
        throw new TypeError('revoking a session needs the claims of a verified token (sid and auth_time)')
      }
      await callStore(() => store.end(claims.sid, sessionExpiry(claims.auth_time)), storeTimeout)
    },
    async endSubject (sub: string, notBefore = 0) {
      if (typeof sub !== 'string' || sub === '') throw new TypeError('revoking a user needs a non-empty sub')
      // Never before the login of the session that asks: a clock stepped back, or another
      // instance's clock ahead, must not leave the caller's own session standing.
      const cutoff = Math.max(microClock(), notBefore)
      await callStore(() => store.endSubject(sub, cutoff, Math.ceil(Date.now() / 1000 + expiresIn + afterExp)), storeTimeout)
    }
  })
}
