/*
 * The login and logout-all clock, in whole microseconds since the epoch. A logout of every
 * session records a cut-off from this clock and a login records its `auth_us` from it: one
 * clock for both, strictly increasing, makes a login that follows a logout-all in this
 * process later than it, even within the same millisecond. It lives with the token code, the
 * lowest layer that reads it (a login signs with it); the sessions layer reads it too.
 */

/**
 * How far (µs) instances' clocks may disagree, either way, without a logout of every session
 * missing one: a logout-all's cut-off lies this far ahead of the clock that records it, and a
 * login stamps itself after any cut-off it has seen, so a session that logged in before the
 * logout-all was received is refused even if its instance's clock read up to this much later.
 */
export const CLOCK_SKEW = 5_000_000

/**
 * How far (µs) past its login clock a login's `auth_us` may be stamped: a cut-off recorded by
 * a clock up to {@link CLOCK_SKEW} ahead, itself {@link CLOCK_SKEW} ahead of that clock. A
 * cut-off further ahead is no clock's within the bound (a value the store did not write, one
 * that refuses every token): a login is not stamped past it, and stays refused.
 */
export const MAX_STAMP_AHEAD = 2 * CLOCK_SKEW

/**
 * The latest `auth_us` a token of the login second `authTime` may carry: what validity accepts
 * (see jwt/validity.ts), and where a session known only by its second is counted when the
 * registry folds it into a cut-off (which must cover every token of it).
 */
export function latestAuthUs (authTime: number): number {
  return (authTime + 1) * 1_000_000 + MAX_STAMP_AHEAD - 1
}

/** A wall clock stepped back further than this (µs) is followed rather than outrun. */
const MAX_STEP_BACK = 1_000_000

let last = 0

/**
 * Microseconds since the epoch, greater than any value it answered before. A wall clock
 * stepped back by more than a second is followed instead: outrunning it would sign logins
 * whose `auth_time` lies ahead of their `iat`, refused as invalid until the clock caught up.
 */
export function microClock (): number {
  const now = Date.now() * 1000
  last = now > last || last - now > MAX_STEP_BACK ? now : last + 1
  return last
}
