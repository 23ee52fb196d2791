import { createVerifier } from 'fast-jwt'
import { ExpiredTokenError, InvalidTokenError } from '../errors'
import type { ResolvedOptions } from '../options/resolved'
import type { SessionClaims } from '../types'

/*
 * What makes a token valid, in one place: the verifier fast-jwt builds for one key and one
 * algorithm (signature, `exp`, `nbf`, `iss`, `aud`), then the checks fast-jwt does not make
 * (key references in the header, the required claims and their types, a future `iat`, an
 * over-long lifetime). Every failure is a 401; nothing a verifier throws becomes a 500.
 */

/** A fast-jwt verifier in `complete` mode: the decoded header and payload, or a throw. */
export type Verifier = (token: string) => { header: Record<string, unknown>, payload: Record<string, unknown> }

/**
 * Header parameters that name a key by reference or carry one (RFC 8725 §3.10): keys come
 * from the configuration only, so a token that brings its own is refused, never followed.
 */
const KEY_REFERENCE_HEADERS = ['jku', 'x5u', 'jwk', 'x5c'] as const

/** Longer tokens are refused before any decoding: ours are well under 2 KB. */
export const MAX_TOKEN_LENGTH = 8192

/**
 * A verifier for one key and one algorithm: its signature, `exp`, `nbf`, and `iss` / `aud`
 * when configured, which fast-jwt would skip were they absent, so they are required here.
 */
export function createStrictVerifier (key: string | Buffer, algorithm: string, options: ResolvedOptions): Verifier {
  const requiredClaims: string[] = []
  if (options.issuer !== undefined) requiredClaims.push('iss')
  if (options.audience !== undefined) requiredClaims.push('aud')
  return createVerifier({
    key,
    algorithms: [algorithm as 'HS256'],
    requiredClaims,
    allowedIss: options.issuer,
    allowedAud: options.audience,
    clockTolerance: options.clockTolerance * 1000,
    // `exp` is checked in validClaims: a renewal accepts an expired token for `idleTimeout` more.
    ignoreExpiration: true,
    cache: false,
    complete: true
  })
}

/** A whole number, 0 or more: `gen` and `auth_us`. */
function isCount (value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0
}

/**
 * Claims beyond what fast-jwt checks: expiry (`idle` seconds more for a renewal), the required
 * claims and their types, a future `iat`, an over-long lifetime, a login time that does not
 * match itself. A token without `gen` or `auth_us` (from before sessions had generations) is refused.
 */
function checkClaims (payload: Record<string, unknown>, options: ResolvedOptions, now: number, idle: number): SessionClaims {
  const { sub, jti, sid, iat, exp, auth_time: authTime, auth_us: authUs, gen } = payload
  const roles = payload.roles ?? []
  const leeway = options.clockTolerance
  // As fast-jwt counts it: still valid in the very millisecond of `exp` plus the leeway.
  if (typeof exp === 'number' && now > (exp + leeway + idle) * 1000) throw new ExpiredTokenError()
  const nowSeconds = Math.floor(now / 1000)
  if (
    typeof sub !== 'string' || sub === '' ||
    typeof jti !== 'string' || jti === '' ||
    typeof sid !== 'string' || sid === '' ||
    typeof iat !== 'number' || typeof exp !== 'number' || typeof authTime !== 'number' ||
    iat > nowSeconds + leeway ||
    exp - iat > options.expiresIn ||
    authTime > iat ||
    !isCount(gen) || !isCount(authUs) || Math.floor(authUs / 1_000_000) !== authTime ||
    !Array.isArray(roles) || !roles.every((role) => typeof role === 'string')
  ) {
    throw new InvalidTokenError()
  }
  Object.freeze(roles)
  return Object.freeze(roles === payload.roles ? payload : { ...payload, roles }) as SessionClaims
}

/**
 * Verifies `token` with `verifier` and answers its frozen claims, or throws the documented 401.
 * `idle`: seconds past `exp` an expired token is still accepted (a renewal's `idleTimeout`).
 */
export function validClaims (token: string, verifier: Verifier, options: ResolvedOptions, now: number, idle = 0): SessionClaims {
  let decoded: ReturnType<Verifier>
  try {
    decoded = verifier(token)
  } catch {
    // fast-jwt and node:crypto throw on some malformed input; none of that may become a 500.
    throw new InvalidTokenError()
  }
  if (KEY_REFERENCE_HEADERS.some((name) => name in decoded.header)) throw new InvalidTokenError()
  return checkClaims(decoded.payload, options, now, idle)
}
