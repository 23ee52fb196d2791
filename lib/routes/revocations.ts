import { Type } from '@sinclair/typebox'
import type { FastifyInstance } from 'fastify'
import { ForbiddenError, internalError } from '../errors'
import type { Publisher } from '../feed/publisher'
import type { ResolvedFeed } from '../options/resolved'
import { TAGS } from './context'
import { errorResponses } from './schemas'

/** The feed's request headers: a reader resumes after the last event it received. */
const FeedHeaders = Type.Object({
  'last-event-id': Type.Optional(Type.String({ maxLength: 512, description: 'The id of the last event received: the feed resumes strictly after it' }))
})

/** Whether the host's `authorize` threw an error meant for the client (an HTTP error, such as a 401 of `authenticate`). */
function isHttpError (error: unknown): boolean {
  return typeof (error as { statusCode?: unknown } | null)?.statusCode === 'number'
}

/**
 * `GET /@revocations`: the feed of every revocation the store records, as Server-Sent Events
 * of signed SETs, for the readers the host's `authorize` admits.
 */
export function registerRevocations (fastify: FastifyInstance, path: string, feed: ResolvedFeed, publisher: Publisher): void {
  fastify.get(path, {
    schema: {
      summary: 'The revocation feed: Server-Sent Events, each a signed Security Event Token (RFC 8417)',
      tags: TAGS,
      headers: FeedHeaders,
      response: {
        200: Type.String({ description: 'text/event-stream: a snapshot or a resume, then live events and heartbeats' }),
        ...errorResponses(401, 403, 500, 503)
      }
    }
  }, async (request, reply) => {
    let allowed: boolean
    try {
      allowed = await feed.authorize(request)
    } catch (error) {
      if (isHttpError(error)) throw error
      throw internalError(error)
    }
    if (allowed !== true) throw new ForbiddenError()
    publisher.serve(request, reply)
    return reply
  })
}
