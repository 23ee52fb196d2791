import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { RevokedTokenError, SessionTooOldError } from '../errors'
import { userFromClaims } from '../jwt/claims'
import { callHost, handOver, TAGS, type RouteContext } from './context'
import { BearerHeaders, SessionResponse, TokenResponse, errorResponses } from './schemas'
import { strictValidatorCompiler } from './validation'

/** `POST /@login-renew`: a fresh token of the same session for a valid one, which is retired. */
export function registerRenew (fastify: FastifyInstance, path: string, context: RouteContext): void {
  const { options, tokens, revocations, authenticator, audit, cookie } = context
  const { loadUser, maxSessionAge } = options
  const hasStore = options.revocationStore !== undefined
  fastify.post(path, {
    onRequest: authenticator.hook,
    validatorCompiler: strictValidatorCompiler(),
    schema: {
      summary: 'Renew: exchange a valid token for a fresh one of the same session',
      tags: TAGS,
      headers: BearerHeaders,
      // In cookie mode, renew can be refused for a missing CSRF token.
      response: { 200: cookie === undefined ? TokenResponse : SessionResponse, ...errorResponses(400, 401, ...(cookie === undefined ? [] : [403]), 500, 503) }
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
    return handOver(cookie, reply, issued, request.headers.authorization === undefined)
  })
}
