import { TokenError, createVerifier } from 'fast-jwt'
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
    cache: false,
    complete: true
  })
}

/** Claims beyond what fast-jwt checks: the required ones and their types, a future `iat`, an over-long lifetime. */
function checkClaims (payload: Record<string, unknown>, options: ResolvedOptions, nowSeconds: number): SessionClaims {
  const { sub, jti, sid, iat, exp, auth_time: authTime } = payload
  const roles = payload.roles ?? []
  const leeway = options.clockTolerance
  if (
    typeof sub !== 'string' || sub === '' ||
    typeof jti !== 'string' || jti === '' ||
    typeof sid !== 'string' || sid === '' ||
    typeof iat !== 'number' || typeof exp !== 'number' || typeof authTime !== 'number' ||
    iat > nowSeconds + leeway ||
    exp - iat > options.expiresIn ||
    authTime > iat ||
    !Array.isArray(roles) || !roles.every((role) => typeof role === 'string')
  ) {
    throw new InvalidTokenError()
  }
  Object.freeze(roles)
  return Object.freeze(roles === payload.roles ? payload : { ...payload, roles }) as SessionClaims
}

/** Maps whatever a verifier throws to the documented error: every throw is a refusal. */
function refusal (error: unknown): Error {
  // fast-jwt and node:crypto throw on some malformed input; none of that may become a 500.
  return (error instanceof TokenError && error.code === TokenError.codes.expired) ? new ExpiredTokenError() : new InvalidTokenError()
}

/** Verifies `token` with `verifier` and answers its frozen claims, or throws the documented 401. */
export function validClaims (token: string, verifier: Verifier, options: ResolvedOptions, now: number): SessionClaims {
  let decoded: ReturnType<Verifier>
  try {
    decoded = verifier(token)
  } catch (error) {
    throw refusal(error)
  }
  if (KEY_REFERENCE_HEADERS.some((name) => name in decoded.header)) throw new InvalidTokenError()
  return checkClaims(decoded.payload, options, Math.floor(now / 1000))
}
