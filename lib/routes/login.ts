import type { FastifyInstance } from 'fastify'
import { InvalidCredentialsError, TooManyAttemptsError } from '../errors'
import type { Credentials } from '../types'
import { callHost, handOver, TAGS, type RouteContext } from './context'
import { NO_SECURITY, SessionResponse, TokenResponse, errorResponses } from './schemas'
import { requireJsonBody, strictValidatorCompiler } from './validation'

/** `POST /@login`: the host checks the credentials, the plugin issues a token of a new session. */
export function registerLogin (fastify: FastifyInstance, path: string, context: RouteContext): void {
  const { options, tokens, throttle, audit, cookie } = context
  const { credentialsSchema, loginName } = options
  const verify = options.verifyCredentials as NonNullable<typeof options.verifyCredentials>
  fastify.post(path, {
    onRequest: requireJsonBody,
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
    return handOver(cookie, reply, issued, true, options.idleTimeout)
  })
}
