import type { FastifyInstance } from 'fastify'
import { internalError, InvalidCredentialsError, TooManyAttemptsError } from '../errors'
import type { IssuedToken } from '../jwt/token-service'
import { isThenable } from '../sessions/store-calls'
import type { Credentials, SessionUser } from '../types'
import { handOver, seenBy, TAGS, type RouteContext } from './context'
import { NO_SECURITY, SessionResponse, TokenResponse, errorResponses } from './schemas'
import { publishBodyRefused, requireJsonBody, strictValidatorCompiler } from './validation'

/** `POST /@login`: the host checks the credentials, the plugin issues a token of a new session. */
export function registerLogin (fastify: FastifyInstance, path: string, context: RouteContext): void {
  const { options, tokens, revocations, sessions, throttle, audit, cookie } = context
  const { credentialsSchema, loginName } = options
  const verify = options.verifyCredentials as NonNullable<typeof options.verifyCredentials>
  fastify.post(path, {
    onRequest: requireJsonBody,
    onError: publishBodyRefused,
    validatorCompiler: strictValidatorCompiler(),
    schema: {
      summary: 'Log in: check credentials and issue a token',
      tags: TAGS,
      security: NO_SECURITY,
      body: credentialsSchema,
      response: { 200: cookie === undefined ? TokenResponse : SessionResponse, ...errorResponses(400, 401, 413, 415, 429, 500, 503) }
    }
  }, async (request, reply) => {
    const credentials = request.body as Credentials & Record<string, unknown>
    // Counted before the verifier runs (429 past a limit), uncounted below if it succeeds.
    // A synchronous counter, hook or store is not awaited: each await costs a turn of the microtask queue.
    let attempt: readonly string[]
    try {
      const admitted = throttle.admit(request, credentials)
      attempt = isThenable(admitted) ? await admitted : admitted
    } catch (error) {
      if (error instanceof TooManyAttemptsError) {
        await audit.loginFailed(request, { login: loginName(credentials), reason: 'throttled' })
      }
      throw error
    }
    let user: SessionUser | null
    try {
      user = await verify(credentials, request)
    } catch (error) {
      throw internalError(error)
    }
    if (user === null || user === undefined) {
      await audit.loginFailed(request, { login: loginName(credentials), reason: 'invalid_credentials' })
      throw new InvalidCredentialsError()
    }
    // The credentials were right: whatever comes next (a store outage, 503), this was no failed
    // attempt, and a user retrying through an outage must not lock out their name or address.
    try {
      const released = throttle.release(attempt)
      if (released !== undefined) await released
    } catch (error) {
      // A counter that failed to uncount only leaves one failure too many.
      request.log.warn({ err: error }, 'fastify-jwt-session: a successful login stayed counted as a failure')
    }
    // Stamped after the user's logout-all cut-off, so that a login right after a logout-all
    // works; a store that cannot say fails the login closed (503).
    const pending = revocations.loginCutoff((user as { sub?: unknown }).sub)
    const cutoff = isThenable(pending) ? await pending : pending
    let issued: IssuedToken
    try {
      issued = tokens.sign(user, undefined, cutoff)
    } catch (error) {
      // A malformed user (a bad sub, a reserved claim) is the host's bug: a plain 500.
      throw internalError(error)
    }
    const { sub, sid, jti } = issued.claims
    // Listed before the token is answered: a store that cannot list it fails the login (503).
    // Past `maxSessionsPerUser`, the least recently used sessions are ended, as a logout ends them.
    if (sessions.available) {
      const added = sessions.add(issued.claims, seenBy(request))
      for (const evicted of isThenable(added) ? await added : added) {
        await audit.sessionEvicted(request, { sub, sid: evicted.sid, by: sid, reason: 'max_sessions' })
      }
    }
    const reported = audit.login(request, { sub, sid, jti })
    if (reported !== undefined) await reported
    return handOver(cookie, reply, issued, true, options.idleTimeout)
  })
}
