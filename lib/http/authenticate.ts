import type { FastifyReply, FastifyRequest, HookHandlerDoneFunction } from 'fastify'
import { ForbiddenError } from '../errors'
import { channels, publishRefused } from '../ops/channels'
import type { TokenService, VerifiedToken } from '../jwt/token-service'
import type { Revocations } from '../sessions/revocations'
import type { SessionClaims } from '../types'
import { verifyBearer } from './bearer'
import type { CookieTransport } from './cookies'

/** A hook for `onRequest` or `preHandler`, in Fastify's callback style (no promise per request). */
type Hook = (request: FastifyRequest, reply: FastifyReply, done: HookHandlerDoneFunction) => void

/** What a hook does once the request is authenticated; an error given to `done` is counted as a refusal. */
export type Next = (request: FastifyRequest, done: HookHandlerDoneFunction) => void

/** `fastify.authenticate` asks nothing more than authentication. */
const proceed: Next = (_request, done) => { done() }

/** The request-side operations: `request.authenticate()`, `fastify.authenticate`, `requireRoles`. */
export interface Authenticator {
  /** Verifies the request's Bearer token (or, in cookie mode, its cookie) and the store; sets `request.user`. */
  authenticate (request: FastifyRequest): SessionClaims | Promise<SessionClaims>
  /** `fastify.authenticate`. */
  hook: Hook
  /** `fastify.requireRoles(...roles)`. */
  requireRoles (...roles: string[]): Hook
  /** `fastify.authenticateOptional`: a refused token leaves `request.user` null; a 5xx still fails. */
  optionalHook: Hook
  /** A hook that authenticates first when needed, then runs `next` (`requireRoles`, `requireFresh`). */
  guard (next: Next): Hook
}

/**
 * Whether an authentication failure may leave the request anonymous: a refused token (4xx)
 * may; an outage (store or keys: 5xx, or an unexpected error) fails the request, as
 * everywhere else: an answer the store could not check is never served (fail closed).
 */
function isRefusal (error: unknown): boolean {
  const status = (error as { statusCode?: unknown } | null)?.statusCode
  return typeof status === 'number' && status >= 400 && status < 500
}

/**
 * Where a request keeps the claims it was admitted with. `request.user` alone does not say a
 * request is authenticated: @fastify/jwt (with its default `decoratorName`) or a host's own
 * hook may have set it, even to claims this plugin checked for an earlier request (the
 * verified-token cache hands the same frozen claims to every request with that token, after
 * a logout too). So the mark is on the request, never on the claims: it dies with its request.
 */
const ADMITTED = Symbol('fastify-jwt-session.admitted')

/** A request as the hooks see it: with the claims it was admitted with, once it is. */
interface MarkedRequest { [ADMITTED]?: SessionClaims }

/** Whether this request was admitted with the claims `request.user` holds now. */
function isAdmitted (request: FastifyRequest): boolean {
  const admitted = (request as MarkedRequest)[ADMITTED]
  return admitted !== undefined && admitted === request.user
}

/** Fails the request with `error`, counted on the `refused` channel when someone listens. */
function refuse (done: HookHandlerDoneFunction, error: unknown): void {
  if (channels.refused.hasSubscribers) publishRefused(error)
  done(error as Error)
}

/** Builds the authenticate path once; nothing on it allocates a closure unless the store is asynchronous. */
export function createAuthenticator (tokens: TokenService, revocations: Revocations, cookie?: CookieTransport): Authenticator {
  /** Sets `request.user` to claims this authenticator checked, for this request. */
  function setUser (request: FastifyRequest, claims: SessionClaims): SessionClaims {
    (request as MarkedRequest)[ADMITTED] = claims
    request.user = claims
    return claims
  }

  /** Checks the store for a verified token, then sets `request.user`. */
  function admit (request: FastifyRequest, token: VerifiedToken): SessionClaims | Promise<SessionClaims> {
    const pending = revocations.check(token)
    if (pending === undefined) return setUser(request, token.claims)
    return pending.then(() => setUser(request, token.claims))
  }

  /** Cookie mode, for a request with no Authorization header: the cookie, then the CSRF check. */
  function authenticateByCookie (request: FastifyRequest, transport: CookieTransport): SessionClaims | Promise<SessionClaims> {
    const token = tokens.verify(transport.tokenOf(request))
    if (token instanceof Promise) {
      return token.then((fetched) => {
        transport.checkCsrf(request, fetched.claims)
        return admit(request, fetched)
      })
    }
    transport.checkCsrf(request, token.claims)
    return admit(request, token)
  }

  function authenticate (request: FastifyRequest): SessionClaims | Promise<SessionClaims> {
    const header = request.headers.authorization
    // The header, when there is one, is the only credential looked at, even in cookie mode.
    if (header === undefined && cookie !== undefined) return authenticateByCookie(request, cookie)
    const token = verifyBearer(header, tokens)
    return token instanceof Promise ? token.then((fetched) => admit(request, fetched)) : admit(request, token)
  }

  /**
   * Runs `next` once the request is authenticated, at once when it already is. `next` is built
   * once per hook, never per request; only an asynchronous store or key fetch costs a closure.
   */
  function whenAuthenticated (request: FastifyRequest, done: HookHandlerDoneFunction, next: Next): void {
    if (isAdmitted(request)) return next(request, done)
    let result: SessionClaims | Promise<SessionClaims>
    try {
      result = authenticate(request)
    } catch (error) {
      return refuse(done, error)
    }
    if (result instanceof Promise) {
      result.then(() => next(request, done), (error: unknown) => { refuse(done, error) })
    } else {
      next(request, done)
    }
  }

  function hook (request: FastifyRequest, _reply: FastifyReply, done: HookHandlerDoneFunction): void {
    whenAuthenticated(request, done, proceed)
  }

  function requireRoles (...roles: string[]): Hook {
    if (roles.length === 0 || !roles.every((role) => typeof role === 'string' && role !== '')) {
      throw new TypeError('requireRoles needs at least one role, each a non-empty string')
    }
    const wanted = new Set(roles)
    return guard((request, done) => {
      for (const role of request.user.roles) {
        if (wanted.has(role)) return done()
      }
      done(new ForbiddenError())
    })
  }

  function guard (next: Next): Hook {
    // A refusal of `next` is counted on the `refused` channel as authentication's are.
    const checked: Next = (request, done) => {
      next(request, (error?: Error) => { if (error === undefined) done(); else refuse(done, error) })
    }
    return function guardHook (request, _reply, done) {
      whenAuthenticated(request, done, checked)
    }
  }

  /**
   * Fails the request for an outage, else lets it on, anonymous: `request.user` is null, even
   * if something else had set it (a shared @fastify/jwt decorator, a host hook).
   */
  function anonymousUnlessOutage (request: FastifyRequest, done: HookHandlerDoneFunction, error: unknown): void {
    // An outage fails the request here too (503): counted with authenticate's refusals.
    if (!isRefusal(error)) return refuse(done, error)
    request.user = null as unknown as SessionClaims
    done()
  }

  function optionalHook (request: FastifyRequest, _reply: FastifyReply, done: HookHandlerDoneFunction): void {
    if (isAdmitted(request)) return done()
    let result: SessionClaims | Promise<SessionClaims>
    try {
      result = authenticate(request)
    } catch (error) {
      return anonymousUnlessOutage(request, done, error)
    }
    if (result instanceof Promise) {
      result.then(() => done(), (error: unknown) => anonymousUnlessOutage(request, done, error))
    } else {
      done()
    }
  }

  return { authenticate, hook, requireRoles, optionalHook, guard }
}
