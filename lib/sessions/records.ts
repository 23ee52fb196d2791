import { RevokedTokenError, RenewTooSoonError, StoreUnavailableError } from '../errors'
import { CLOCK_SKEW, microClock } from '../jwt/clock'
import type { SessionClaims, SessionRecord } from '../types'

/*
 * What a store's answers mean for a token: the rules of the session model, in one place, and
 * the checks that make an answer of the wrong type fail closed (503) instead of letting a
 * token through.
 */

/** An answer that is no record: the store is broken, so the request fails closed. */
function garbage (what: string, value: unknown): never {
  throw new StoreUnavailableError({ cause: new TypeError(`the store answered ${typeof value} for ${what}`) })
}

/** The store's answer to `session()` or `renew()`, checked; undefined when nothing is recorded. */
export function sessionRecord (value: unknown): SessionRecord | undefined {
  if (value === undefined || value === null) return undefined
  const record = value as Partial<SessionRecord>
  if (
    typeof value !== 'object' ||
    typeof record.generation !== 'number' || !Number.isSafeInteger(record.generation) || record.generation < 0 ||
    typeof record.renewedAt !== 'number' || Number.isNaN(record.renewedAt) ||
    typeof record.ended !== 'boolean'
  ) return garbage('a session record', value)
  return record as SessionRecord
}

/** The store's answer to `subject()`, checked: a cut-off in microseconds, or undefined. */
export function subjectCutoff (value: unknown): number | undefined {
  if (value === undefined || value === null) return undefined
  if (typeof value !== 'number' || Number.isNaN(value)) return garbage('a cut-off', value)
  return value
}

/**
 * Refuses (401 REVOKED) a token whose session has ended, or that logged in at or before its
 * user's logout-all cut-off. With `graceUs` (authenticate), also one of a retired generation:
 * two or more behind, or the one just behind once `graceUs` has passed since the renewal
 * (a grace of 0 retires it at once).
 * Without it (a renewal), a retired generation goes on to the store, which tells a renewal
 * within the grace from a replay.
 */
export function judge (record: unknown, cutoff: unknown, claims: SessionClaims, graceUs?: number): void {
  const session = sessionRecord(record)
  if (session !== undefined) {
    if (session.ended) throw new RevokedTokenError()
    if (graceUs !== undefined && claims.gen < session.generation) {
      // The clock is read only here: a token of the current generation costs no Date.now().
      if (claims.gen < session.generation - 1 || Date.now() * 1000 - session.renewedAt >= graceUs) throw new RevokedTokenError()
    }
  }
  const latest = subjectCutoff(cutoff)
  if (latest !== undefined && claims.auth_us <= latest) throw new RevokedTokenError()
}

/**
 * How long (µs) a session's generation stays its newest before the next renewal of it may
 * move it: one user renewing in a loop writes one change a second, not one a request, so a
 * Redis bucket's log keeps minutes of changes for a mirror that was away.
 */
export const RENEWAL_INTERVAL = 1_000_000

/**
 * As {@link judge} for a renewal (a retired generation is left to the store), and refuses
 * (429) a renewal of the session's newest generation reached less than a second ago. Renewals
 * of the generation before (other tabs, within the grace) write nothing and are not limited.
 * A renewal time up to {@link CLOCK_SKEW} in the future is recent too (another instance's
 * clock ahead, within the bound): else a loop alternating between two instances whose clocks
 * differ by a second would never be refused. Further ahead is a clock out of the bound, not a
 * recent renewal: such a clock must not lock a session out of renewing.
 */
export function judgeRenewal (record: unknown, cutoff: unknown, claims: SessionClaims): void {
  judge(record, cutoff, claims)
  const session = sessionRecord(record)
  if (session === undefined || claims.gen !== session.generation) return
  const since = microClock() - session.renewedAt
  if (since > -CLOCK_SKEW && since < RENEWAL_INTERVAL) throw new RenewTooSoonError()
}
