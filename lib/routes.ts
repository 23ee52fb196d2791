import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import type { Audit } from './audit'
import type { Authenticator } from './authenticate'
import type { CookieTransport } from './cookies'
import type { Keyring } from './keyring'
import type { LoginThrottle } from './login-throttle'
import { InvalidCredentialsError, RevokedTokenError, SessionTooOldError, TooManyAttemptsError, internalError } from './errors'
import type { ResolvedOptions } from './options'
import type { Revocations } from './revocation'
import { BearerHeaders, JwksResponse, LogoutBody, SessionResponse, TokenResponse, errorResponses } from './schemas'
import type { IssuedToken, TokenService } from './tokens'
import type { Credentials, SessionClaims, SessionUser } from './types'
import { strictValidatorCompiler } from './validation'

/** What the routes are built from. */
export interface RouteContext {
  readonly options: ResolvedOptions
  readonly tokens: TokenService
  readonly revocations: Revocations
  readonly authenticator: Authenticator
  readonly keyring: Keyring
  readonly throttle: LoginThrottle
  readonly audit: Audit
  /** Set in cookie mode only. */
  readonly cookie: CookieTransport | undefined
}

/**
 * How long clients and proxies may keep the JWKS document. Rotation waits for it: publish a
 * new key this long before signing with it (the README gives the steps).
 */
const JWKS_MAX_AGE_SECONDS = 300

const TAGS = ['authentication']

/**
 * Calls a host callback, or signs what it answered; whatever throws (the callback, or a
 * malformed user: a bad `sub`, a reserved claim) becomes a plain 500, logged and never sent.
 */
async function callHost<T> (call: () => Promise<T>): Promise<T> {
  try {
    return await call()
  } catch (error) {
    throw internalError(error)
  }
}

/** The claims a renewal carries over when there is no `loadUser`: the host's extras. */
function userFromClaims (claims: SessionClaims): SessionUser {
  const { sub, roles, iat, exp, nbf, jti, sid, auth_time: authTime, iss, aud, csrf, ...extra } = claims as SessionClaims & { nbf?: number, csrf?: string }
  return { sub, roles: [...roles], claims: extra }
}

/** Registers `POST /@login`, `POST /@login-renew`, `POST /@logout` and the JWKS where the options put them. */
export function registerRoutes (fastify: FastifyInstance, context: RouteContext): void {
  const { options, tokens, revocations, authenticator, keyring, throttle, audit, cookie } = context
  const { routes, verifyCredentials, loadUser, maxSessionAge, credentialsSchema, loginName } = options
  const hasStore = options.revocationStore !== undefined
  const issuedResponse = cookie === undefined ? TokenResponse : SessionResponse
  // In cookie mode, renew and logout can be refused for a missing CSRF token.
  const csrfRefusal = cookie === undefined ? [] : [403]

  /**
   * The answer that hands a token over: in the body, or in cookie mode to a browser, in the
   * cookie, with only the CSRF token in the body. A login in cookie mode always answers the
   * cookie way; a renewal answers the way the old token came.
   */
  function handOver (reply: FastifyReply, issued: IssuedToken, inCookie: boolean): { token: string } | { csrfToken: string } {
    if (cookie === undefined || !inCookie) return { token: issued.token }
    cookie.set(reply, issued.token, issued.claims.exp)
    return { csrfToken: issued.claims.csrf as string }
  }

  if (routes.login !== false) {
    const verify = verifyCredentials as NonNullable<typeof verifyCredentials>
    fastify.post(routes.login, {
      validatorCompiler: strictValidatorCompiler(),
      schema: {
        summary: 'Log in: check credentials and issue a token',
        tags: TAGS,
        body: credentialsSchema,
        response: { 200: issuedResponse, ...errorResponses(400, 401, 413, 415, 429, 500, 503) }
      }
    }, async (request, reply) => {
      const credentials = request.body as Credentials & Record<string, unknown>
      // Counted before the verifier runs (429 past a limit), uncounted below if it succeeds.
      let attempt: readonly string[]
      try {
        attempt = await throttle.admit(request, credentials)
      } catch (error) {
        if (error instanceof TooManyAttemptsError) {
          await audit.loginFailed(request, { login: loginName(credentials), reason: 'throttled' })
        }
        throw error
      }
      const user = await callHost(() => verify(credentials, request))
      if (user === null || user === undefined) {
        await audit.loginFailed(request, { login: loginName(credentials), reason: 'invalid_credentials' })
        throw new InvalidCredentialsError()
      }
      const issued = await callHost(async () => tokens.sign(user))
      try {
        await throttle.release(attempt)
      } catch (error) {
        // The user is in: a counter that failed to uncount only leaves one failure too many.
        request.log.warn({ err: error }, 'fastify-jwt-session: a successful login stayed counted as a failure')
      }
      const { sub, sid, jti } = issued.claims
      await audit.login(request, { sub, sid, jti })
      return handOver(reply, issued, true)
    })
  }

  if (routes.renew !== false) {
    fastify.post(routes.renew, {
      onRequest: authenticator.hook,
      validatorCompiler: strictValidatorCompiler(),
      schema: {
        summary: 'Renew: exchange a valid token for a fresh one of the same session',
        tags: TAGS,
        headers: BearerHeaders,
        response: { 200: issuedResponse, ...errorResponses(400, 401, ...csrfRefusal, 500, 503) }
      }
    }, async (request: FastifyRequest, reply: FastifyReply) => {
      const claims = request.user
      if (Date.now() / 1000 >= claims.auth_time + maxSessionAge) throw new SessionTooOldError()
      const user = loadUser === undefined ? userFromClaims(claims) : await callHost(() => loadUser(claims, request))
      if (user === null || user === undefined) {
        // The host ended the session: its other tokens go too, where a store can record it.
        if (hasStore) await revocations.revokeSession(claims)
        throw new RevokedTokenError()
      }
      const issued = await callHost(async () => tokens.sign(user, claims))
      // With a store the old token is retired atomically: of two renewals of one token, one wins.
      if (hasStore && !await revocations.revokeToken(claims)) throw new RevokedTokenError()
      await audit.renew(request, { sub: issued.claims.sub, sid: claims.sid, jti: issued.claims.jti, previousJti: claims.jti })
      return handOver(reply, issued, request.headers.authorization === undefined)
    })
  }

  if (routes.logout !== false) {
    fastify.post(routes.logout, {
      onRequest: authenticator.hook,
      validatorCompiler: strictValidatorCompiler(true),
      schema: {
        summary: 'Log out: revoke this token, or with { "all": true } every token of this user',
        tags: TAGS,
        headers: BearerHeaders,
        body: LogoutBody,
        response: { 204: { type: 'null', description: 'Logged out' }, ...errorResponses(400, 401, ...csrfRefusal, 415, 501, 503) }
      }
    }, async (request, reply) => {
      const claims = request.user
      const all = (request.body as { all?: boolean } | undefined)?.all === true
      await (all ? revocations.revokeSubject(claims.sub) : revocations.revokeSession(claims))
      cookie?.clear(reply)
      await audit.logout(request, { sub: claims.sub, sid: claims.sid, all })
      return reply.code(204).send()
    })
  }

  const jwks = keyring.jwks
  if (routes.jwks !== false && jwks !== undefined) {
    fastify.get(routes.jwks, {
      schema: {
        summary: 'The public keys that verify this service\'s tokens (RFC 7517)',
        tags: TAGS,
        response: { 200: JwksResponse }
      }
    }, async (_request, reply) => {
      reply.header('cache-control', `public, max-age=${JWKS_MAX_AGE_SECONDS}`)
      return jwks
    })
  }
}
