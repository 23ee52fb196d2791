import { randomBytes } from 'node:crypto'
import { TokenError } from 'fast-jwt'
import { LruMap } from 'toad-cache'
import { ExpiredTokenError, InvalidTokenError } from './errors'
import type { Keyring, Verifier } from './keyring'
import { revocationKey } from './revocation'
import { secondSighting, type Admission } from './admission'
import type { ResolvedOptions } from './options'
import type { SessionClaims, SessionUser } from './types'

/**
 * Header parameters that name a key by reference or carry one (RFC 8725 §3.10): keys come
 * from the configuration only, so a token that brings its own is refused, never followed.
 */
const KEY_REFERENCE_HEADERS = ['jku', 'x5u', 'jwk', 'x5c'] as const

/** Claims the plugin sets itself; a host's extra `claims` may not override them. */
const REGISTERED_CLAIMS = new Set(['sub', 'roles', 'iat', 'exp', 'nbf', 'jti', 'sid', 'auth_time', 'iss', 'aud', 'csrf'])

/** Longer tokens are refused before any decoding: ours are well under 2 KB. */
const MAX_TOKEN_LENGTH = 8192

/** Stands in for the verified-token cache when `cacheSize` is 0, so the hot path has no branch. */
const NO_CACHE = Object.freeze({ get: (): undefined => undefined, set: (): void => {} })
/** With no cache there is nothing to protect from one-off tokens. */
const ADMIT_ALL: Admission = () => true

/** The session a token belongs to; carried unchanged from the login across renewals. */
export interface Session {
  readonly sid: string
  /** Login time, seconds since the epoch. */
  readonly auth_time: number
  /** The session's CSRF token, in cookie mode only. */
  readonly csrf?: string
}

/** A freshly signed token and the claims it carries. */
export interface IssuedToken {
  readonly token: string
  readonly claims: Readonly<Record<string, unknown>> & Session & { readonly sub: string, readonly jti: string, readonly exp: number }
}

/** A verified token: its frozen claims and the store keys that could revoke it. */
export interface VerifiedToken {
  readonly claims: SessionClaims
  /** `jti:…`, `sid:…`, `sub:…`, built once per token rather than once per request. */
  readonly revocationKeys: readonly string[]
}

/** Signs and verifies the plugin's tokens. */
export interface TokenService {
  /** Signs a token for `user`; a new session starts unless `session` continues one. */
  sign (user: SessionUser, session?: Session): IssuedToken
  /**
   * Verifies `token` and answers its claims, or throws the documented error; a promise only
   * while a verify-only service fetches a key it has not seen.
   */
  verify (token: string): VerifiedToken | Promise<VerifiedToken>
}

/** 128 random bits, base64url: unguessable ids for `jti`, `sid` and `csrf` (RFC 7519 §4.1.7). */
export function randomId (): string {
  return randomBytes(16).toString('base64url')
}

/** The store key of each way a token can be revoked. */
export function revocationKeys (claims: Pick<SessionClaims, 'jti' | 'sid' | 'sub'>): readonly string[] {
  return Object.freeze([revocationKey('jti', claims.jti), revocationKey('sid', claims.sid), revocationKey('sub', claims.sub)])
}

function assertSessionUser (user: SessionUser): void {
  if (typeof user !== 'object' || user === null) throw new TypeError('a session user must be an object')
  if (typeof user.sub !== 'string' || user.sub === '') throw new TypeError('a session user needs a non-empty string sub')
  if (user.roles !== undefined && (!Array.isArray(user.roles) || !user.roles.every((role) => typeof role === 'string'))) {
    throw new TypeError('roles must be an array of strings')
  }
  if (user.claims !== undefined) {
    if (typeof user.claims !== 'object' || user.claims === null || Array.isArray(user.claims)) throw new TypeError('claims must be an object')
    for (const name of Object.keys(user.claims)) {
      if (REGISTERED_CLAIMS.has(name)) throw new TypeError(`claims may not set the registered claim "${name}"`)
    }
  }
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

/**
 * Builds the token service once, from the resolved options and the keys. Verification is
 * stricter than fast-jwt's defaults (see `createStrictVerifier` and `checkClaims`), and a
 * token verified twice is kept, so that one reused across requests costs a map lookup.
 */
export function createTokenService (options: ResolvedOptions, keyring: Keyring): TokenService {
  const { expiresIn, maxSessionAge, issuer, audience, clockTolerance, cacheSize } = options
  const withCsrf = options.cookie !== false
  // Keyed on the exact token string: another spelling of the same signature is verified anew.
  const verified: Pick<LruMap<VerifiedToken>, 'get' | 'set'> = cacheSize > 0 ? new LruMap<VerifiedToken>(cacheSize) : NO_CACHE
  const worthCaching = cacheSize > 0 ? secondSighting(cacheSize) : ADMIT_ALL

  function sign (user: SessionUser, session?: Session): IssuedToken {
    if (keyring.sign === undefined) throw new TypeError('this service only verifies tokens: no configured key signs')
    assertSessionUser(user)
    const iat = Math.floor(Date.now() / 1000)
    const authTime = session?.auth_time ?? iat
    const claims = {
      ...user.claims,
      sub: user.sub,
      roles: user.roles ?? [],
      iat,
      exp: Math.min(iat + expiresIn, authTime + maxSessionAge),
      jti: randomId(),
      sid: session?.sid ?? randomId(),
      auth_time: authTime,
      ...(issuer === undefined ? undefined : { iss: issuer }),
      ...(audience === undefined ? undefined : { aud: audience }),
      // Cookie mode: the session's CSRF token travels in the token it protects (see cookies.ts).
      ...(withCsrf ? { csrf: session?.csrf ?? randomId() } : undefined)
    }
    return { token: keyring.sign(claims), claims }
  }

  /** Verifies with the chosen verifier, checks what fast-jwt does not, and remembers the result. */
  function check (token: string, verifier: Verifier, now: number): VerifiedToken {
    let decoded: ReturnType<Verifier>
    try {
      decoded = verifier(token)
    } catch (error) {
      throw refusal(error)
    }
    if (KEY_REFERENCE_HEADERS.some((name) => name in decoded.header)) throw new InvalidTokenError()
    const claims = checkClaims(decoded.payload, options, Math.floor(now / 1000))
    const result = Object.freeze({ claims, revocationKeys: revocationKeys(claims) })
    if (worthCaching(token)) verified.set(token, result)
    return result
  }

  function verify (token: string): VerifiedToken | Promise<VerifiedToken> {
    if (typeof token !== 'string' || token.length > MAX_TOKEN_LENGTH) throw new InvalidTokenError()
    const now = Date.now()
    const hit = verified.get(token)
    if (hit !== undefined) {
      // Expiry is a matter of time, so it is checked on every hit; revocation is the caller's.
      if ((hit.claims.exp + clockTolerance) * 1000 < now) throw new ExpiredTokenError()
      return hit
    }
    const verifier = keyring.verifierFor(token)
    if (typeof verifier === 'function') return check(token, verifier, now)
    return verifier.then((fetched) => check(token, fetched, Date.now()))
  }

  return { sign, verify }
}
