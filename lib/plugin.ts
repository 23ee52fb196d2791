import fp from 'fastify-plugin'
import type { FastifyInstance, FastifyRequest } from 'fastify'
import { installPloneCompat } from './compat/plone'
import { createAuthenticator } from './http/authenticate'
import { createCookieTransport } from './http/cookies'
import { createRequireFresh } from './http/fresh'
import { offerFastifyJwt } from './http/fastify-jwt'
import { warnAboutEarlierRoutes } from './http/late-registration'
import { createFeedEnds } from './feed/ends'
import { createLocalKeyring } from './jwt/local-keyring'
import { createRemoteKeyring } from './jwt/remote-keyring'
import { createTokenService } from './jwt/token-service'
import { composeHealth, steadyPart, storeHealth } from './ops/health'
import { OptionError } from './options/checks'
import { resolveOptions } from './options/resolve'
import { createAudit } from './routes/audit'
import { registerRoutes } from './routes/index'
import { claimStorePrefix } from './sessions/prefix-claim'
import { createRevocations } from './sessions/revocations'
import { createSessionList, describeSession } from './sessions/session-list'
import { awaitStoreReady } from './sessions/store-calls'
import { createLoginThrottle } from './throttle/login-throttle'
import type { AuthHook, JwtAuthApi, JwtSessionOptions, SessionClaims, SessionUser } from './types'

async function fastifyJwtSession (fastify: FastifyInstance, rawOptions: JwtSessionOptions<never>): Promise<void> {
  if (fastify.hasDecorator('jwtAuth')) {
    throw new OptionError('fastify-jwt-session is already registered on this instance or an ancestor of it: register it once')
  }
  warnAboutEarlierRoutes(fastify)
  const options = resolveOptions(rawOptions)
  for (const warning of options.warnings) fastify.log.warn(warning)
  const { keySource } = options
  const keyring = keySource.kind === 'jwks' ? createRemoteKeyring(keySource.jwks, options) : createLocalKeyring(keySource, options)
  const tokens = createTokenService(options, keyring)
  // A feed's two ends: the publisher of this service's store, or the copy of an issuer's feed (then the store).
  const feed = createFeedEnds(fastify, options)
  const revocations = createRevocations(feed.follower === undefined ? options : { ...options, revocationStore: feed.follower.store })
  if (options.cookie !== false && !fastify.hasReplyDecorator('setCookie')) {
    throw new OptionError('fastify-jwt-session: cookie needs @fastify/cookie, registered before this plugin')
  }
  const cookie = options.cookie === false ? undefined : createCookieTransport(options.cookie)
  const authenticator = createAuthenticator(tokens, revocations, cookie)
  const sessions = createSessionList(options, revocations)

  // @fastify/jwt's: the host's own registration, or the one offered here. `request.user` is
  // null until authenticated; it is typed as the claims because authenticated routes read it.
  await offerFastifyJwt(fastify, options, authenticator)
  if (!fastify.hasRequestDecorator('user')) fastify.decorateRequest('user', null as unknown as SessionClaims)
  fastify.decorateRequest('authenticate', async function authenticate (this: FastifyRequest) {
    return await authenticator.authenticate(this)
  })
  // The public hook type is generic over every route's type provider; the hook reads only headers.
  fastify.decorate('authenticate', authenticator.hook as AuthHook)
  fastify.decorate('requireRoles', authenticator.requireRoles as (...roles: string[]) => AuthHook)
  fastify.decorate('authenticateOptional', authenticator.optionalHook as AuthHook)
  fastify.decorate('requireFresh', createRequireFresh(authenticator) as (maxAge: unknown) => AuthHook)
  // The parts that never change state, built once.
  const localKeys = steadyPart('local')
  const noFeed = steadyPart(feed.publisher === undefined ? 'none' : 'publishing')
  const api: JwtAuthApi = {
    // Stamped after the user's logout-all cut-off: a token signed right after revokeSubject works.
    sign: (user: SessionUser) => tokens.sign(user, undefined, revocations.loginCutoffNow((user as { sub?: unknown } | null)?.sub)).token,
    async verify (token: string) {
      const verified = await tokens.verify(token)
      await revocations.check(verified)
      return verified.claims
    },
    revoke: async (claims: SessionClaims) => await sessions.end(claims),
    revokeSubject: async (sub: string) => await revocations.endSubject(sub),
    sessions: async (sub: string) => (await sessions.list(sub)).map(describeSession),
    async endSession (sub: string, id: string) {
      const entry = (await sessions.list(sub)).find((listed) => listed.sid === id)
      if (entry === undefined) return false
      await sessions.endListed(sub, entry)
      return true
    },
    health: () => composeHealth(
      storeHealth(options.revocationStore),
      keyring.health?.() ?? localKeys,
      feed.follower?.health() ?? noFeed
    )
  }
  fastify.decorate('jwtAuth', Object.freeze(api))

  if (options.compat === 'plone') installPloneCompat(fastify, options.routes)
  registerRoutes(fastify, {
    options,
    tokens,
    revocations,
    sessions,
    authenticator,
    keyring,
    throttle: createLoginThrottle(options.loginThrottle, options.storeTimeout),
    audit: createAudit(options.audit),
    cookie,
    publisher: feed.publisher
  })

  // A store that holds resources of its own (the Redis mirror's connection) is closed with the
  // app; the host's own clients are the host's to close.
  const store = options.revocationStore as { close?: unknown } | undefined
  const close = store?.close
  if (typeof close === 'function') fastify.addHook('onClose', async () => { await close.call(store) })
  await claimStorePrefix(store, keySource, options.storeTimeout)
  await awaitStoreReady(store, options.storeTimeout)
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
