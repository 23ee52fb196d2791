import fp from 'fastify-plugin'
import type { FastifyInstance, FastifyRequest } from 'fastify'
import { createAuthenticator, type AuthHook } from './authenticate'
import { resolveOptions } from './options'
import { createRevocations } from './revocation'
import { registerRoutes } from './routes'
import { createTokenService } from './tokens'
import type { JwtSessionOptions, SessionClaims, SessionUser } from './types'

/** `fastify.jwtAuth`: the plugin's operations for code outside its routes. */
export interface JwtAuthApi {
  /** Signs a token for `user`, starting a new session. */
  sign (user: SessionUser): string
  /** Verifies a token (signature, claims, revocation) and answers its claims. */
  verify (token: string): Promise<SessionClaims>
  /** Revokes one token; rejects with 501 without a store. */
  revoke (claims: SessionClaims): Promise<void>
  /** Revokes every token of `sub` issued until now; rejects with 501 without a store. */
  revokeSubject (sub: string): Promise<void>
}

declare module 'fastify' {
  interface FastifyRequest {
    /**
     * The verified claims, once `authenticate` has run; `null` before. Read it in routes
     * behind `fastify.authenticate` or after `await request.authenticate()`.
     */
    user: SessionClaims
    /** Verifies the Bearer token and the revocation store; sets and answers `request.user`. */
    authenticate (): Promise<SessionClaims>
  }
  interface FastifyInstance {
    /** A hook for `onRequest` (recommended) or `preHandler`: 401 unless the token is valid. */
    authenticate: AuthHook
    /** A hook: 403 unless the user has one of `roles`; authenticates first if needed. */
    requireRoles (...roles: string[]): AuthHook
    /** The programmatic API. */
    jwtAuth: JwtAuthApi
  }
}

async function fastifyJwtSession (fastify: FastifyInstance, rawOptions: JwtSessionOptions): Promise<void> {
  const options = resolveOptions(rawOptions)
  const tokens = createTokenService(options)
  const revocations = createRevocations(options)
  const authenticator = createAuthenticator(tokens, revocations)

  // null until authenticated; typed as the claims because only authenticated routes read it.
  fastify.decorateRequest('user', null as unknown as SessionClaims)
  fastify.decorateRequest('authenticate', async function authenticate (this: FastifyRequest) {
    return await authenticator.authenticate(this)
  })
  fastify.decorate('authenticate', authenticator.hook)
  fastify.decorate('requireRoles', authenticator.requireRoles)
  const api: JwtAuthApi = {
    sign: (user: SessionUser) => tokens.sign(user),
    async verify (token: string) {
      const verified = tokens.verify(token)
      await revocations.check(verified)
      return verified.claims
    },
    async revoke (claims: SessionClaims) {
      await revocations.revokeToken(claims)
    },
    revokeSubject: (sub: string) => revocations.revokeSubject(sub)
  }
  fastify.decorate('jwtAuth', Object.freeze(api))

  registerRoutes(fastify, { options, tokens, revocations, authenticator })
}

/**
 * The plugin. Register it once; it decorates the instance it is registered on (it is not
 * encapsulated) with `authenticate`, `requireRoles` and `jwtAuth`, and each request with
 * `authenticate()` and `user`.
 *
 * @example
 * ```ts
 * await app.register(jwtAuth, { secret: process.env.JWT_SECRET, verifyCredentials, revocationStore: memoryStore() })
 * app.get('/me', { onRequest: app.authenticate }, async (request) => request.user)
 * ```
 */
export const jwtAuth = fp(fastifyJwtSession, { name: 'fastify-jwt-session', fastify: '5.x' })
