import { timingSafeEqual } from 'node:crypto'
import type { FastifyReply, FastifyRequest, HookHandlerDoneFunction } from 'fastify'
import { CsrfError, NoTokenError } from '../errors'
import type { ResolvedCookie } from '../options/resolved'
import type { SessionClaims } from '../types'

/** Methods that change nothing (RFC 9110 §9.2.1): they need no CSRF token. */
const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS'])

/** What `@fastify/cookie` adds to the request and the reply, as far as this plugin uses it. */
interface CookieRequest { cookies?: Record<string, string | undefined> }
interface CookieReply {
  setCookie (name: string, value: string, options: Record<string, unknown>): unknown
  clearCookie (name: string, options: Record<string, unknown>): unknown
}

/**
 * The cookie's attributes: out of scripts' reach (HttpOnly), over HTTPS only (Secure), never
 * sent by another site's page (SameSite=Strict), for the whole origin.
 */
const ATTRIBUTES = Object.freeze({ httpOnly: true, secure: true, sameSite: 'strict', path: '/' })

/**
 * Cookie mode: the token also travels in an HttpOnly cookie, for browsers. A request with an
 * Authorization header is authenticated by the header alone; one without, by the cookie. As a
 * browser sends the cookie by itself, a state-changing request (any method but GET, HEAD and
 * OPTIONS) authenticated by the cookie must also carry the session's CSRF token in a header:
 * a random value signed into the token (`csrf` claim), which the login answer gives to the
 * page and no other site can read. SameSite=Strict already keeps other sites' requests
 * cookie-less; the CSRF token also covers sibling subdomains and older browsers.
 */
export interface CookieTransport {
  /** The cookie's token, or the 401 for a request that has none. */
  tokenOf (request: FastifyRequest): string
  /** Refuses (403) a state-changing request whose header does not carry the session's CSRF token. */
  checkCsrf (request: FastifyRequest, claims: SessionClaims): void
  /** Sets the cookie to `token` until `exp` (seconds since the epoch). */
  set (reply: FastifyReply, token: string, exp: number): void
  /**
   * Asks the browser to drop the cookie, if the request carried it: a request without it (a
   * cross-site POST, a client that sent only the header) gets no Set-Cookie for it.
   */
  clear (reply: FastifyReply): void
}

/** Whether `given` is the session's CSRF token, compared in constant time. */
function sameToken (given: unknown, expected: unknown): boolean {
  if (typeof given !== 'string' || typeof expected !== 'string') return false
  const a = Buffer.from(given)
  const b = Buffer.from(expected)
  return a.length === b.length && timingSafeEqual(a, b)
}

/**
 * The 401 for a request with neither an Authorization header nor the cookie. The usual cause
 * is a browser that dropped the Secure cookie: over plain http, browsers keep it only for
 * `localhost` (and `127.0.0.1`), so the message says so rather than speak of headers alone.
 */
function noCookieError (name: string): () => Error {
  const message = `No Bearer token in the Authorization header, and no ${name} cookie: browsers keep this Secure cookie only over https or on http://localhost`
  return () => Object.assign(new NoTokenError(), { message })
}

/** Binds cookie mode to its cookie name and CSRF header. */
export function createCookieTransport ({ name, csrfHeader }: ResolvedCookie): CookieTransport {
  const noCookie = noCookieError(name)
  return Object.freeze({
    tokenOf (request: FastifyRequest): string {
      const token = (request as CookieRequest).cookies?.[name]
      if (token === undefined || token === '') throw noCookie()
      return token
    },
    checkCsrf (request: FastifyRequest, claims: SessionClaims): void {
      if (SAFE_METHODS.has(request.method)) return
      if (!sameToken(request.headers[csrfHeader], (claims as { csrf?: unknown }).csrf)) throw new CsrfError()
    },
    set (reply: FastifyReply, token: string, exp: number): void {
      const maxAge = Math.max(0, exp - Math.floor(Date.now() / 1000))
      ;(reply as unknown as CookieReply).setCookie(name, token, { ...ATTRIBUTES, maxAge })
    },
    clear (reply: FastifyReply): void {
      // Only the browser that sent the cookie is told to drop it: an answer that clears a cookie
      // the request did not carry is a Set-Cookie any page could trigger, for nothing to clear.
      if ((reply.request as CookieRequest).cookies?.[name] === undefined) return
      (reply as unknown as CookieReply).clearCookie(name, ATTRIBUTES)
    }
  })
}

/** A hook for `onRequest`, in Fastify's callback style. */
type Hook = (request: FastifyRequest, reply: FastifyReply, done: HookHandlerDoneFunction) => void

/**
 * The logout route's authentication in cookie mode: a cookie whose token is refused (401:
 * revoked, expired, invalid) is cleared in that same answer, or the browser would go on
 * sending a dead token. A 403 (no CSRF token) clears nothing, so that another site cannot log
 * a user out; nor does a 401 for a request that carried no cookie (`clear` sees to it).
 */
export function clearingRefusedCookie (authenticate: Hook, transport: CookieTransport): Hook {
  return function authenticateLogout (request, reply, done) {
    authenticate(request, reply, (error) => {
      if ((error as { statusCode?: unknown } | undefined)?.statusCode === 401 && request.headers.authorization === undefined) transport.clear(reply)
      done(error)
    })
  }
}
