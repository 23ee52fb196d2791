import { ExpiredTokenError, InvalidTokenError } from '../errors'
import type { ResolvedOptions } from '../options/resolved'
import type { SessionClaims, SessionUser } from '../types'
import { assertSessionUser, randomId } from './claims'
import { MAX_STAMP_AHEAD, microClock } from './clock'
import { createHeaderVerifiers } from './header-verifiers'
import type { Keyring } from './keyring'
import { MAX_TOKEN_LENGTH, validClaims, type Verifier } from './validity'
import { createVerifiedCache, type CacheEntry } from './verified-cache'

/** The session a token belongs to: carried from the login across renewals, but for `gen`. */
export interface Session {
  readonly sid: string
  /** Login time, seconds since the epoch. */
  readonly auth_time: number
  /** Login time, microseconds since the epoch. */
  readonly auth_us: number
  /** The generation of the token to sign. */
  readonly gen: number
  /** The session's CSRF token, in cookie mode only. */
  readonly csrf?: string
}

/** A freshly signed token and the claims it carries. */
export interface IssuedToken {
  readonly token: string
  readonly claims: Readonly<Record<string, unknown>> & Session & { readonly sub: string, readonly jti: string, readonly exp: number }
}

/** A verified token: its frozen claims, and the verifier that accepted it. */
export interface VerifiedToken {
  readonly claims: SessionClaims
  /** The key's verifier that accepted the token: a cached token dies with its key (see `Keyring.trusts`). */
  readonly verifiedBy: Verifier
  /** Before this time (ms since the epoch) the token is not valid yet: its `iat`, or a later `nbf`, less the leeway. */
  readonly validFromMs: number
}

/** Signs and verifies the plugin's tokens. */
export interface TokenService {
  /**
   * Signs a token for `user`; a new session starts unless `session` continues one. A new
   * session's `auth_us` lies after `cutoff` (µs: the user's logout-all cut-off, when known), so
   * that no cut-off the login has seen covers it; its `auth_time` stays the real login second.
   */
  sign (user: SessionUser, session?: Session, cutoff?: number): IssuedToken
  /**
   * Verifies `token` and answers its claims, or throws the documented error; a promise only
   * while a verify-only service fetches a key it has not seen.
   */
  verify (token: string): VerifiedToken | Promise<VerifiedToken>
  /**
   * Verifies `token` for a renewal: as `verify`, but an expired token is accepted until
   * `exp + idleTimeout`. Never cached: a renewal is rare, and its answer must not serve `verify`.
   */
  verifyForRenewal (token: string): Promise<SessionClaims>
  /**
   * The cached verification of the token an `Authorization` header carries, when the header
   * is spelled exactly `Bearer <token>`; undefined otherwise (then parse the header and call
   * `verify`). Throws the documented error for a cached token that has expired.
   */
  cached (header: string): VerifiedToken | undefined
}

/** Builds the token service once, from the resolved options and the keys. */
export function createTokenService (options: ResolvedOptions, keyring: Keyring): TokenService {
  const { expiresIn, maxSessionAge, issuer, audience, clockTolerance, cacheSize, idleTimeout } = options
  const withCsrf = options.cookie !== false
  // A hit needs the exact token string: another spelling of the same signature is verified anew.
  const verified = createVerifiedCache<VerifiedToken>(cacheSize)
  // A secret's keyring has one verifier and reads no header: nothing to remember.
  const headers = options.keySource.kind === 'secret' ? undefined : createHeaderVerifiers(keyring)

  function sign (user: SessionUser, session?: Session, cutoff?: number): IssuedToken {
    if (keyring.sign === undefined) throw new TypeError('this service only verifies tokens: no configured key signs')
    assertSessionUser(user)
    // A login takes its time from the login clock, whose microseconds order it against a logout-all.
    const now = session === undefined ? microClock() : 0
    const authUs = session?.auth_us ?? (cutoff !== undefined && cutoff >= now && cutoff < now + MAX_STAMP_AHEAD ? cutoff + 1 : now)
    const authTime = session?.auth_time ?? Math.floor(now / 1_000_000)
    const iat = Math.max(Math.floor(Date.now() / 1000), authTime)
    const claims = {
      ...user.claims,
      sub: user.sub,
      roles: user.roles ?? [],
      iat,
      exp: Math.min(iat + expiresIn, authTime + maxSessionAge),
      jti: randomId(),
      sid: session?.sid ?? randomId(),
      auth_time: authTime,
      auth_us: authUs,
      gen: session?.gen ?? 0,
      ...(issuer === undefined ? undefined : { iss: issuer }),
      ...(audience === undefined ? undefined : { aud: audience }),
      // Cookie mode: the session's CSRF token travels in the token it protects (see http/cookies.ts).
      ...(withCsrf ? { csrf: session?.csrf ?? randomId() } : undefined)
    }
    return { token: keyring.sign(claims), claims }
  }

  /**
   * Verifies with the chosen verifier and remembers the result; `chosen`: the keyring chose the
   * verifier by the token's header, which is then remembered for the next token with that header.
   */
  function check (token: string, verifier: Verifier, now: number, chosen: boolean): VerifiedToken {
    const claims = validClaims(token, verifier, options, now)
    if (chosen) headers?.remember(token, verifier)
    const { nbf } = claims as SessionClaims & { nbf?: unknown }
    const validFrom = typeof nbf === 'number' && nbf > claims.iat ? nbf : claims.iat
    const result = Object.freeze({ claims, verifiedBy: verifier, validFromMs: (validFrom - clockTolerance) * 1000 })
    verified.offer(token, result, (claims.exp + clockTolerance) * 1000)
    return result
  }

  /**
   * A cache hit, if it still holds: undefined when its key is no longer trusted (a key that
   * left the issuer's JWKS: the token is verified anew, and refused there); the time-bound
   * checks are made on every hit. Revocation is the caller's to check, on every request.
   */
  function current (hit: CacheEntry<VerifiedToken> | undefined): VerifiedToken | undefined {
    if (hit === undefined || !keyring.trusts(hit.result.verifiedBy)) return undefined
    const now = Date.now()
    if (hit.expiresAtMs < now) throw new ExpiredTokenError()
    // A clock stepped back puts a cached token's iat (or nbf) in the future, as a fresh check would find.
    if (hit.result.validFromMs > now) throw new InvalidTokenError()
    return hit.result
  }

  function verify (token: string): VerifiedToken | Promise<VerifiedToken> {
    if (typeof token !== 'string' || token.length > MAX_TOKEN_LENGTH) throw new InvalidTokenError()
    const hit = current(verified.byToken(token))
    if (hit !== undefined) return hit
    const remembered = headers?.get(token)
    if (remembered !== undefined) return check(token, remembered, Date.now(), false)
    const verifier = keyring.verifierFor(token)
    if (typeof verifier === 'function') return check(token, verifier, Date.now(), true)
    return verifier.then((fetched) => check(token, fetched, Date.now(), true))
  }

  async function verifyForRenewal (token: string): Promise<SessionClaims> {
    if (token.length > MAX_TOKEN_LENGTH) throw new InvalidTokenError()
    const verifier = await keyring.verifierFor(token)
    return validClaims(token, verifier, options, Date.now(), idleTimeout)
  }

  function cached (header: string): VerifiedToken | undefined {
    return current(verified.byHeader(header))
  }

  return { sign, verify, verifyForRenewal, cached }
}
