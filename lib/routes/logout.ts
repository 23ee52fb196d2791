import type { FastifyInstance } from 'fastify'
import { clearingRefusedCookie } from '../http/cookies'
import { TAGS, type RouteContext } from './context'
import { BearerHeaders, LogoutBody, errorResponses } from './schemas'
import { strictValidatorCompiler } from './validation'

/** `POST /@logout`: ends the session for good, or with `{ "all": true }` every session of the user. */
export function registerLogout (fastify: FastifyInstance, path: string, context: RouteContext): void {
  const { revocations, authenticator, audit, cookie } = context
  fastify.post(path, {
    onRequest: cookie === undefined ? authenticator.hook : clearingRefusedCookie(authenticator.hook, cookie),
    validatorCompiler: strictValidatorCompiler(true),
    schema: {
      summary: 'Log out: end this session, or with { "all": true } every session of this user',
      tags: TAGS,
      headers: BearerHeaders,
      body: LogoutBody,
      // In cookie mode, logout can be refused for a missing CSRF token.
      response: { 204: { type: 'null', description: 'Logged out' }, ...errorResponses(400, 401, ...(cookie === undefined ? [] : [403]), 415, 501, 503) }
    }
  }, async (request, reply) => {
    const claims = request.user
    const all = (request.body as { all?: boolean } | undefined)?.all === true
    await (all ? revocations.endSubject(claims.sub) : revocations.end(claims))
    cookie?.clear(reply)
    await audit.logout(request, { sub: claims.sub, sid: claims.sid, all })
    return reply.code(204).send()
  })
}
