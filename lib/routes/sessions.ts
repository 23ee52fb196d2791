import type { FastifyInstance } from 'fastify'
import { SessionNotFoundError } from '../errors'
import { describeSession } from '../sessions/session-list'
import { TAGS, type RouteContext } from './context'
import { BearerHeaders, SessionParams, SessionsResponse, errorResponses } from './schemas'

/**
 * `GET /@sessions`: the caller's live sessions; `DELETE /@sessions/:id`: ends one of them, as
 * a logout ends it. Any id that is not one of the caller's live sessions (another user's, one
 * that ended, one that never was, one not even shaped like an id) answers the same 404 and
 * ends nothing: the route tells nobody which ids exist. A malformed id is a 404 too, not a
 * 400, for the same reason; the schema's pattern still keeps it from reaching the store.
 */
export function registerSessions (fastify: FastifyInstance, path: string, context: RouteContext): void {
  const { authenticator, sessions, audit, cookie } = context
  const refusals = [401, ...(cookie === undefined ? [] : [403]), 503]

  fastify.get(path, {
    onRequest: authenticator.hook,
    schema: {
      summary: 'The sessions of this user: where they are signed in',
      tags: TAGS,
      headers: BearerHeaders,
      response: { 200: SessionsResponse, ...errorResponses(...refusals) }
    }
  }, async (request, reply) => {
    const { sub, sid } = request.user
    const listed = await sessions.list(sub)
    reply.header('cache-control', 'no-store')
    return { sessions: listed.map((entry) => ({ ...describeSession(entry), current: entry.sid === sid })) }
  })

  fastify.delete(`${path}/:id`, {
    // In cookie mode, the CSRF rule covers DELETE as any state-changing method.
    onRequest: authenticator.hook,
    // A malformed id is answered by the handler, as the 404 of any other id.
    attachValidation: true,
    schema: {
      summary: 'End one of this user\'s sessions (the current one too: then it is a logout)',
      tags: TAGS,
      headers: BearerHeaders,
      params: SessionParams,
      response: { 204: { type: 'null', description: 'The session is ended' }, ...errorResponses(...refusals, 404) }
    }
  }, async (request, reply) => {
    const claims = request.user
    const { id } = request.params as { id: string }
    const entry = request.validationError === undefined ? (await sessions.list(claims.sub)).find((listed) => listed.sid === id) : undefined
    if (entry === undefined) throw new SessionNotFoundError()
    await sessions.endListed(claims.sub, entry)
    // Ending one's own session is a logout: the browser's cookie goes too.
    if (entry.sid === claims.sid) cookie?.clear(reply)
    await audit.logout(request, { sub: claims.sub, sid: entry.sid, all: false })
    return reply.code(204).send()
  })
}
