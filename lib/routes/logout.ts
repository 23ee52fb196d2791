import type { FastifyInstance } from 'fastify'
import { clearingRefusedCookie } from '../http/cookies'
import { createRenewalCheck } from '../http/renewal'
import { TAGS, type RouteContext } from './context'
import { BearerHeaders, LogoutBody, errorResponses } from './schemas'
import { strictValidatorCompiler } from './validation'

/** `POST /@logout`: ends the session for good, or with `{ "all": true }` every session of the user. */
export function registerLogout (fastify: FastifyInstance, path: string, context: RouteContext): void {
  const { tokens, revocations, sessions, audit, cookie } = context
  // A token that can still be renewed (expired less than `idleTimeout` ago, or of a generation
  // just retired) can still end its session: a logout that refused it would leave the session
  // renewable, by the browser or by a thief, while the user thinks it over. Ending every
  // session of the user is another matter: see the handler.
  const check = createRenewalCheck(tokens, revocations.checkEndable, cookie)
  const authenticateLogout: Parameters<typeof clearingRefusedCookie>[0] = (request, _reply, done) => {
    check(request).then(() => { done() }, done)
  }
  fastify.post(path, {
    onRequest: cookie === undefined ? authenticateLogout : clearingRefusedCookie(authenticateLogout, cookie),
    validatorCompiler: strictValidatorCompiler(true),
    schema: {
      summary: 'Log out: end this session, or with { "all": true } every session of this user, or with { "others": true } every other one',
      tags: TAGS,
      headers: BearerHeaders,
      body: LogoutBody,
      // In cookie mode, logout can be refused for a missing CSRF token.
      response: { 204: { type: 'null', description: 'Logged out' }, ...errorResponses(400, 401, ...(cookie === undefined ? [] : [403]), 415, 501, 503) }
    }
  }, async (request, reply) => {
    const claims = request.user
    const body = request.body as { all?: boolean, others?: boolean } | undefined
    const all = body?.all === true
    const others = body?.others === true
    // A token retired past the grace (a thief's copy, an old tab) may end its own session,
    // never the user's others: for that it must be one that authenticates a request.
    if (all || others) await revocations.checkCurrent(claims)
    if (all) {
      await revocations.endSubject(claims.sub, claims.auth_us)
    } else if (others) {
      for (const entry of await sessions.list(claims.sub)) {
        if (entry.sid !== claims.sid) await sessions.endListed(claims.sub, entry)
      }
    } else {
      await sessions.end(claims)
    }
    // This session goes on with `others`: its cookie stays.
    if (!others) cookie?.clear(reply)
    await audit.logout(request, others ? { sub: claims.sub, sid: claims.sid, all, others } : { sub: claims.sub, sid: claims.sid, all })
    return reply.code(204).send()
  })
}
