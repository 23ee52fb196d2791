import type { FastifyReply, FastifyRequest, HookHandlerDoneFunction } from 'fastify'
import { extractBearerToken } from './bearer'
import { ForbiddenError } from './errors'
import type { Revocations } from './revocation'
import type { TokenService, VerifiedToken } from './tokens'
import type { SessionClaims } from './types'

/** A hook for `onRequest` or `preHandler`, in Fastify's callback style (no promise per request). */
type Hook = (request: FastifyRequest, reply: FastifyReply, done: HookHandlerDoneFunction) => void

/** The request-side operations: `request.authenticate()`, `fastify.authenticate`, `requireRoles`. */
export interface Authenticator {
  /** Verifies the request's Bearer token and the store; sets `request.user`. */
  authenticate (request: FastifyRequest): SessionClaims | Promise<SessionClaims>
  /** `fastify.authenticate`. */
  hook: Hook
  /** `fastify.requireRoles(...roles)`. */
  requireRoles (...roles: string[]): Hook
}

/** Builds the authenticate path once; nothing on it allocates a closure unless the store is asynchronous. */
export function createAuthenticator (tokens: TokenService, revocations: Revocations): Authenticator {
  /** Checks the store for a verified token, then sets `request.user`. */
  function admit (request: FastifyRequest, token: VerifiedToken): SessionClaims | Promise<SessionClaims> {
    const pending = revocations.check(token)
    if (pending === undefined) {
      request.user = token.claims
      return token.claims
    }
    return pending.then(() => {
      request.user = token.claims
      return token.claims
    })
  }

  function authenticate (request: FastifyRequest): SessionClaims | Promise<SessionClaims> {
    const token = tokens.verify(extractBearerToken(request.headers.authorization))
    return token instanceof Promise ? token.then((fetched) => admit(request, fetched)) : admit(request, token)
  }

  /** Runs `then` once the request is authenticated, at once when it already is. */
  function whenAuthenticated (request: FastifyRequest, done: HookHandlerDoneFunction, then: () => void): void {
    if (request.user !== null) return then()
    let result: SessionClaims | Promise<SessionClaims>
    try {
      result = authenticate(request)
    } catch (error) {
      return done(error as Error)
    }
    if (result instanceof Promise) {
      result.then(() => then(), done)
    } else {
      then()
    }
  }

  function hook (request: FastifyRequest, _reply: FastifyReply, done: HookHandlerDoneFunction): void {
    whenAuthenticated(request, done, done as () => void)
  }

  function requireRoles (...roles: string[]): Hook {
    if (roles.length === 0 || !roles.every((role) => typeof role === 'string' && role !== '')) {
      throw new TypeError('requireRoles needs at least one role, each a non-empty string')
    }
    const wanted = new Set(roles)
    return function requireRolesHook (request, _reply, done) {
      whenAuthenticated(request, done, () => {
        done(request.user.roles.some((role) => wanted.has(role)) ? undefined : new ForbiddenError())
      })
    }
  }

  return { authenticate, hook, requireRoles }
}
