import type { FastifyRequest } from 'fastify'
import { channels } from '../ops/channels'
import type { AuditHooks, LoginEvent, LoginFailedEvent, LogoutEvent, RenewEvent, ReuseEvent, SessionEvictedEvent } from '../types'

/**
 * What the routes report: a log line at a level that fits (failures at warn, renewals at
 * debug, nothing on `authenticate`), then the host's audit hook. Neither ever sees a password
 * or a token, and the log line leaves out the login name too: people type passwords into it.
 * Each answers a promise only when the host set that hook, so that a route without one has
 * nothing to wait for.
 */
export interface Audit {
  login (request: FastifyRequest, event: LoginEvent): void | Promise<void>
  loginFailed (request: FastifyRequest, event: LoginFailedEvent): void | Promise<void>
  renew (request: FastifyRequest, event: RenewEvent): void | Promise<void>
  logout (request: FastifyRequest, event: LogoutEvent): void | Promise<void>
  reuse (request: FastifyRequest, event: ReuseEvent): void | Promise<void>
  sessionEvicted (request: FastifyRequest, event: SessionEvictedEvent): void | Promise<void>
}

/** A host's audit hook. */
type Hook<E> = (event: E, request: FastifyRequest) => void | Promise<void>

/** Calls a host's audit hook; one that throws is logged, and the request goes on as decided. */
async function report<E> (hook: Hook<E>, name: string, request: FastifyRequest, event: E): Promise<void> {
  try {
    await hook(Object.freeze(event), request)
  } catch (error) {
    request.log.error({ err: error }, `fastify-jwt-session: the ${name} hook failed`)
  }
}

/** Reports to `hook` if the host set it; nothing to wait for otherwise. */
function reportIfSet<E> (hook: Hook<E> | undefined, name: string, request: FastifyRequest, event: E): void | Promise<void> {
  return hook === undefined ? undefined : report(hook, name, request, event)
}

/** Binds the log lines and the host's hooks. */
export function createAudit (hooks: Readonly<AuditHooks>): Audit {
  return Object.freeze({
    login (request: FastifyRequest, event: LoginEvent) {
      request.log.info({ sub: event.sub, sid: event.sid }, 'fastify-jwt-session: logged in')
      if (channels.login.hasSubscribers) channels.login.publish({ sub: event.sub, sid: event.sid, jti: event.jti })
      return reportIfSet(hooks.onLogin, 'onLogin', request, event)
    },
    loginFailed (request: FastifyRequest, event: LoginFailedEvent) {
      request.log.warn({ reason: event.reason }, 'fastify-jwt-session: login refused')
      // No login name: people type passwords into it.
      if (channels.loginFailed.hasSubscribers) channels.loginFailed.publish({ reason: event.reason === 'throttled' ? 'throttled' : 'credentials' })
      return reportIfSet(hooks.onLoginFailed, 'onLoginFailed', request, event)
    },
    renew (request: FastifyRequest, event: RenewEvent) {
      request.log.debug({ sub: event.sub, sid: event.sid }, 'fastify-jwt-session: renewed')
      if (channels.renew.hasSubscribers) channels.renew.publish({ sub: event.sub, sid: event.sid, jti: event.jti, previousJti: event.previousJti })
      return reportIfSet(hooks.onRenew, 'onRenew', request, event)
    },
    logout (request: FastifyRequest, event: LogoutEvent) {
      request.log.info({ sub: event.sub, sid: event.sid, all: event.all, others: event.others === true }, 'fastify-jwt-session: logged out')
      if (channels.logout.hasSubscribers) channels.logout.publish({ sub: event.sub, sid: event.sid, kind: event.all ? 'all' : event.others === true ? 'others' : 'one' })
      return reportIfSet(hooks.onLogout, 'onLogout', request, event)
    },
    reuse (request: FastifyRequest, event: ReuseEvent) {
      request.log.warn({ sub: event.sub, sid: event.sid, jti: event.jti }, 'fastify-jwt-session: a retired token was renewed after the grace; the session is revoked')
      if (channels.reuse.hasSubscribers) channels.reuse.publish({ sub: event.sub, sid: event.sid, jti: event.jti })
      return reportIfSet(hooks.onReuse, 'onReuse', request, event)
    },
    sessionEvicted (request: FastifyRequest, event: SessionEvictedEvent) {
      request.log.info({ sub: event.sub, sid: event.sid, by: event.by }, 'fastify-jwt-session: a login past maxSessionsPerUser ended the least recently used session')
      // A session ended: counted with the logouts of one session.
      if (channels.logout.hasSubscribers) channels.logout.publish({ sub: event.sub, sid: event.sid, kind: 'one' })
      return reportIfSet(hooks.onSessionEvicted, 'onSessionEvicted', request, event)
    }
  })
}
