import type { FastifyReply, FastifyRequest, HookHandlerDoneFunction } from 'fastify'
import { insufficientAuthentication } from '../errors'
import { toSeconds } from '../options/checks'
import type { Authenticator } from './authenticate'

/** A hook for `onRequest` or `preHandler`. */
type Hook = (request: FastifyRequest, reply: FastifyReply, done: HookHandlerDoneFunction) => void

/**
 * `fastify.requireFresh(maxAge)`, for step-up: a hook that lets a request on only when the
 * user logged in (`auth_time`) at most `maxAge` seconds ago, else answers RFC 9470's 401 with
 * `max_age`. A renewal carries `auth_time` over unchanged, so only a login (a new session)
 * passes it again: `maxSessionAge` is never stretched without one. `maxAge` is checked at the
 * call, when the host builds its routes: an `OptionError` for a bad one.
 */
export function createRequireFresh (authenticator: Authenticator): (maxAge: unknown) => Hook {
  return function requireFresh (maxAge: unknown): Hook {
    const seconds = toSeconds('requireFresh maxAge', maxAge)
    return authenticator.guard((request, done) => {
      if (Date.now() / 1000 - request.user.auth_time > seconds) return done(insufficientAuthentication(seconds))
      done()
    })
  }
}
