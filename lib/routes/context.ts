import type { FastifyReply, FastifyRequest } from 'fastify'
import { internalError } from '../errors'
import type { Authenticator } from '../http/authenticate'
import type { Publisher } from '../feed/publisher'
import type { CookieTransport } from '../http/cookies'
import type { Keyring } from '../jwt/keyring'
import type { IssuedToken, TokenService } from '../jwt/token-service'
import type { ResolvedOptions } from '../options/resolved'
import type { Revocations } from '../sessions/revocations'
import type { Seen, SessionList } from '../sessions/session-list'
import type { LoginThrottle } from '../throttle/login-throttle'
import type { Audit } from './audit'

/** What the routes are built from. */
export interface RouteContext {
  readonly options: ResolvedOptions
  readonly tokens: TokenService
  readonly revocations: Revocations
  /** The sessions a user can see and end, and the one way a session ends. */
  readonly sessions: SessionList
  readonly authenticator: Authenticator
  readonly keyring: Keyring
  readonly throttle: LoginThrottle
  readonly audit: Audit
  /** Set in cookie mode only. */
  readonly cookie: CookieTransport | undefined
  /** Set with `revocationFeed` only. */
  readonly publisher: Publisher | undefined
}

/** The longest `user-agent` a session's listing keeps: enough for any browser's, and no megabyte header stored per login. */
export const MAX_USER_AGENT = 512

/** Where the request comes from, as a session's listing shows it: `request.ip` (so `trustProxy` applies) and its `user-agent`. */
export function seenBy (request: FastifyRequest): Seen {
  return { ip: request.ip, userAgent: (request.headers['user-agent'] ?? '').slice(0, MAX_USER_AGENT) }
}

/** The OpenAPI tag of every route of the plugin. */
export const TAGS = ['authentication']

/**
 * Calls a host callback, or signs what it answered; whatever throws (the callback, or a
 * malformed user: a bad `sub`, a reserved claim) becomes a plain 500, logged and never sent.
 */
export async function callHost<T> (call: () => Promise<T>): Promise<T> {
  try {
    return await call()
  } catch (error) {
    throw internalError(error)
  }
}

/**
 * The answer that hands a token over: in the body, or in cookie mode to a browser, in the
 * cookie, with only the CSRF token in the body. Never cached. A login in cookie mode always
 * answers the cookie way; a renewal answers the way the old token came. The cookie is kept
 * `idleTimeout` seconds past the token's `exp`, for the browser to renew it with.
 */
export function handOver (cookie: CookieTransport | undefined, reply: FastifyReply, issued: IssuedToken, inCookie: boolean, idleTimeout: number): { token: string } | { csrfToken: string } {
  // A token (or a CSRF token) is a credential: no cache may keep it (RFC 6749 §5.1).
  reply.header('cache-control', 'no-store')
  if (cookie === undefined || !inCookie) return { token: issued.token }
  cookie.set(reply, issued.token, issued.claims.exp + idleTimeout)
  return { csrfToken: issued.claims.csrf as string }
}
