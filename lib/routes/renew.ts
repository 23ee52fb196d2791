import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { ExpiredTokenError, RevokedTokenError, SessionTooOldError } from '../errors'
import { userFromClaims } from '../jwt/claims'
import { createRenewalCheck } from '../http/renewal'
import { callHost, handOver, seenBy, TAGS, type RouteContext } from './context'
import { BearerHeaders, SessionResponse, TokenResponse, errorResponses } from './schemas'
import { strictValidatorCompiler } from './validation'

/**
 * `POST /@login-renew`: a token of the session's next generation for a valid one (or one
 * expired less than `idleTimeout` ago). The store records the renewal after `loadUser`, so a
 * logout that answered first always wins; a retired token renewed after the grace is a
 * replay, and ends the session. A session's newest token is renewed at most once a second
 * (429 `FST_JWT_SESSION_RENEWED_TOO_SOON`): a client renewing in a loop writes one change a
 * second to the store, not one a request.
 */
export function registerRenew (fastify: FastifyInstance, path: string, context: RouteContext): void {
  const { options, tokens, revocations, sessions, audit, cookie } = context
  const { loadUser, maxSessionAge, clockTolerance, idleTimeout } = options
  const hasStore = options.revocationStore !== undefined
  fastify.post(path, {
    onRequest: createRenewalCheck(tokens, revocations.checkRenewable, cookie),
    validatorCompiler: strictValidatorCompiler(),
    schema: {
      summary: 'Renew: exchange a valid token for a fresh one of the same session',
      tags: TAGS,
      headers: BearerHeaders,
      // In cookie mode, renew can be refused for a missing CSRF token.
      response: { 200: cookie === undefined ? TokenResponse : SessionResponse, ...errorResponses(400, 401, ...(cookie === undefined ? [] : [403]), 429, 500, 503) }
    }
  }, async (request: FastifyRequest, reply: FastifyReply) => {
    const claims = request.user
    if (Date.now() / 1000 >= claims.auth_time + maxSessionAge) throw new SessionTooOldError()
    const user = loadUser === undefined ? userFromClaims(claims) : await callHost(() => loadUser(claims, request))
    if (user === null || user === undefined) {
      // The host ended the session: its other tokens go too, where a store can record it.
      if (hasStore) await sessions.end(claims)
      throw new RevokedTokenError()
    }
    // However long `loadUser` took, the token must still be renewable now: a logout's entry
    // is kept only until no token it blocks can be renewed, and must not be outlived.
    if (Date.now() > (claims.exp + clockTolerance + idleTimeout) * 1000) throw new ExpiredTokenError()
    // The listing lasts as long as the token last issued (its `expiresAt`): a renewal whose
    // sighting the registry cannot record would hand out a token that outlives it, a session
    // that works while off the list, which `{ others: true }` and the user no longer see. So it
    // is recorded first, and a registry that fails answers 503 before the session moves (a
    // retry is a plain renewal). A renewal refused below leaves nothing listed that was not.
    if (sessions.available) await sessions.touch(claims, seenBy(request))
    const outcome = await revocations.renew(claims)
    if (outcome === 'ended') throw new RevokedTokenError()
    if (outcome === 'replayed') {
      await sessions.end(claims)
      await audit.reuse(request, { sub: claims.sub, sid: claims.sid, jti: claims.jti })
      throw new RevokedTokenError()
    }
    const issued = await callHost(async () => tokens.sign(user, { ...claims, gen: claims.gen + 1 }))
    await audit.renew(request, { sub: issued.claims.sub, sid: claims.sid, jti: issued.claims.jti, previousJti: claims.jti })
    return handOver(cookie, reply, issued, request.headers.authorization === undefined, idleTimeout)
  })
}
