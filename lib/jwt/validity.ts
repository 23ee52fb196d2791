import { createVerifier } from 'fast-jwt'
import { ExpiredTokenError, InvalidTokenError } from '../errors'
import type { ResolvedOptions } from '../options/resolved'
import type { SessionClaims } from '../types'
import { latestAuthUs } from './clock'

/*
 * What makes a token valid, in one place: the verifier fast-jwt builds for one key and its
 * algorithms (signature, `exp`, `nbf`, `iss`, `aud`), then the checks fast-jwt does not make
 * (key references in the header, a `typ` other than JWT, the required claims and their types,
 * a future `iat`, an over-long lifetime, prototype keys). Every failure is a 401; nothing a
 * verifier throws becomes a 500.
 */

/** A fast-jwt verifier in `complete` mode: the decoded header and payload, or a throw. */
export type Verifier = (token: string) => { header: Record<string, unknown>, payload: Record<string, unknown> }

/**
 * Header parameters that name a key by reference or carry one (RFC 8725 §3.10): keys come
 * from the configuration only, so a token that brings its own is refused, never followed.
 */
const KEY_REFERENCE_HEADERS = ['jku', 'x5u', 'jwk', 'x5c'] as const

/**
 * Keys that would reach an object's prototype once a claim is copied with `Object.assign` or
 * a `for…in` merge (JSON.parse makes `__proto__` an own property; assignment does not).
 */
export const PROTOTYPE_KEYS: ReadonlySet<string> = new Set(['__proto__', 'constructor', 'prototype'])

/** Longer tokens are refused before any decoding: ours are well under 2 KB. */
export const MAX_TOKEN_LENGTH = 8192

/**
 * A verifier for one key and the algorithms it may verify (one, but two for an RSA JWK that
 * names none): its signature, `exp`, `nbf`, and `iss` / `aud`
 * when configured, which fast-jwt would skip were they absent, so they are required here.
 */
export function createStrictVerifier (key: string | Buffer, algorithms: readonly string[], options: ResolvedOptions): Verifier {
  const requiredClaims: string[] = []
  if (options.issuer !== undefined) requiredClaims.push('iss')
  if (options.audience !== undefined) requiredClaims.push('aud')
  return createVerifier({
    key,
    algorithms: algorithms as Array<'HS256'>,
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

/**
 * Freezes a decoded JSON value and everything in it, once per verified token, so that what one
 * request's handler sees cannot be changed for the next request with the same cached token, nor
 * signed into a renewal. Throws at a prototype key, at any depth. JSON has no cycles, and a
 * token's length bounds the depth.
 */
function deepFreeze (value: unknown): void {
  if (typeof value !== 'object' || value === null) return
  for (const key of Object.keys(value)) {
    if (PROTOTYPE_KEYS.has(key)) throw new InvalidTokenError()
    deepFreeze((value as Record<string, unknown>)[key])
  }
  Object.freeze(value)
}

/**
 * Whether a header's `typ` says this is a JWT: absent, or `JWT` in any case, with or without
 * `application/` (RFC 7515 §4.1.9). Any other type (an ID token's `id_token+jwt`, a logout
 * token's `logout+jwt`, `at+jwt`) is a token meant for something else (RFC 8725 §3.11).
 */
function isJwtType (typ: unknown): boolean {
  if (typ === undefined) return true
  if (typeof typ !== 'string') return false
  const type = typ.toLowerCase()
  return type === 'jwt' || type === 'application/jwt'
}

/** A whole number, 0 or more: `gen` and `auth_us`. */
function isCount (value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0
}

/**
 * Claims beyond what fast-jwt checks: expiry (`idle` seconds more for a renewal), the required
 * claims and their types, a future `iat`, an over-long lifetime, a login time that does not
 * match itself (`auth_us` never before the `auth_time` second; it may lie up to
 * `MAX_STAMP_AHEAD` after it, past a logout-all's cut-off recorded by a clock ahead, see
 * jwt/clock.ts). A token without `gen` or
 * `auth_us` (from before sessions had generations) is refused.
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
    !isCount(gen) || !isCount(authUs) ||
    authUs < authTime * 1_000_000 || authUs > latestAuthUs(authTime) ||
    !Array.isArray(roles) || !roles.every((role) => typeof role === 'string') ||
    // A Security Event Token (the revocation feed's) is signed with the same key: never a credential (RFC 8417 §4).
    'events' in payload
  ) {
    throw new InvalidTokenError()
  }
  const claims = roles === payload.roles ? payload : { ...payload, roles }
  deepFreeze(claims)
  return claims as SessionClaims
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
  if (KEY_REFERENCE_HEADERS.some((name) => name in decoded.header) || !isJwtType(decoded.header.typ)) throw new InvalidTokenError()
  return checkClaims(decoded.payload, options, now, idle)
}
