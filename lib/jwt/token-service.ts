import { ExpiredTokenError, InvalidTokenError } from '../errors'
import type { ResolvedOptions } from '../options/resolved'
import type { SessionClaims, SessionUser } from '../types'
import { assertSessionUser, randomId } from './claims'
import type { Keyring } from './keyring'
import { MAX_TOKEN_LENGTH, validClaims, type Verifier } from './validity'
import { createVerifiedCache, type CacheEntry } from './verified-cache'

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
  /** The revocation store's keys for this token, built once per token rather than once per request. */
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
  /**
   * The cached verification of the token an `Authorization` header carries, when the header
   * is spelled exactly `Bearer <token>`; undefined otherwise (then parse the header and call
   * `verify`). Throws the documented error for a cached token that has expired.
   */
  cached (header: string): VerifiedToken | undefined
}

/**
 * Builds the token service once, from the resolved options and the keys. `keysOf` names the
 * revocation store's keys of a verified token (the sessions layer knows them); they are kept
 * with the token, so that one reused across requests costs a map lookup and no allocation.
 */
export function createTokenService (options: ResolvedOptions, keyring: Keyring, keysOf: (claims: SessionClaims) => readonly string[]): TokenService {
  const { expiresIn, maxSessionAge, issuer, audience, clockTolerance, cacheSize } = options
  const withCsrf = options.cookie !== false
  // A hit needs the exact token string: another spelling of the same signature is verified anew.
  const verified = createVerifiedCache<VerifiedToken>(cacheSize)

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
      // Cookie mode: the session's CSRF token travels in the token it protects (see http/cookies.ts).
      ...(withCsrf ? { csrf: session?.csrf ?? randomId() } : undefined)
    }
    return { token: keyring.sign(claims), claims }
  }

  /** Verifies with the chosen verifier and remembers the result. */
  function check (token: string, verifier: Verifier, now: number): VerifiedToken {
    const claims = validClaims(token, verifier, options, now)
    const result = Object.freeze({ claims, revocationKeys: keysOf(claims) })
    verified.offer(token, result, (claims.exp + clockTolerance) * 1000)
    return result
  }

  /** A cache hit, unless its token has expired since: expiry is a matter of time, so it is checked on every hit. */
  function unexpired (hit: CacheEntry<VerifiedToken>): VerifiedToken {
    if (hit.expiresAtMs < Date.now()) throw new ExpiredTokenError()
    // Revocation is the caller's to check, on every request.
    return hit.result
  }

  function verify (token: string): VerifiedToken | Promise<VerifiedToken> {
    if (typeof token !== 'string' || token.length > MAX_TOKEN_LENGTH) throw new InvalidTokenError()
    const hit = verified.byToken(token)
    if (hit !== undefined) return unexpired(hit)
    const verifier = keyring.verifierFor(token)
    if (typeof verifier === 'function') return check(token, verifier, Date.now())
    return verifier.then((fetched) => check(token, fetched, Date.now()))
  }

  function cached (header: string): VerifiedToken | undefined {
    const hit = verified.byHeader(header)
    return hit === undefined ? undefined : unexpired(hit)
  }

  return { sign, verify, cached }
}
