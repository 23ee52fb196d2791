import type { ResolvedOptions } from '../options/resolved'

/**
 * How long (seconds since the epoch) a store keeps what it records, written once for every
 * path that records: no entry may go while a token it concerns can still be used or renewed.
 */
export interface Expiry {
  /** A session logged in at `authTime` (s): its next token, renewed now, and the time past it. */
  session (authTime: number): number
  /** An ended session: as long as a token issued now. */
  end (): number
  /** A user's cut-off (µs): until a token stamped at it, by a clock within the bound, is gone. */
  cutoff (cutoff: number): number
}

/** Binds the expiries to the token lifetime, `maxSessionAge`, `idleTimeout`, the grace and the leeway. */
export function createExpiry ({ expiresIn, maxSessionAge, idleTimeout, renewGrace, clockTolerance }: ResolvedOptions): Expiry {
  // Past a token's `exp`, how long it can still be used or renewed, or stand within the grace.
  const afterExp = idleTimeout + renewGrace + clockTolerance
  return Object.freeze({
    session: (authTime: number) => Math.ceil(Math.min(Date.now() / 1000 + expiresIn, authTime + maxSessionAge) + afterExp),
    end: () => Math.ceil(Date.now() / 1000 + expiresIn + afterExp),
    cutoff: (cutoff: number) => Math.ceil(Math.max(Date.now() / 1000, cutoff / 1_000_000) + expiresIn + afterExp)
  })
}
