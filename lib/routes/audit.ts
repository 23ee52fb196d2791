import type { FastifyRequest } from 'fastify'
import type { AuditHooks, LoginEvent, LoginFailedEvent, LogoutEvent, RenewEvent, ReuseEvent } from '../types'

/**
 * What the routes report: a log line at a level that fits (failures and replays at warn,
 * renewals at debug, nothing on `authenticate`), then the host's audit hook. Neither ever sees a password
 * or a token, and the log line leaves out the login name too: people type passwords into it.
 */
export interface Audit {
  login (request: FastifyRequest, event: LoginEvent): Promise<void>
  loginFailed (request: FastifyRequest, event: LoginFailedEvent): Promise<void>
  renew (request: FastifyRequest, event: RenewEvent): Promise<void>
  logout (request: FastifyRequest, event: LogoutEvent): Promise<void>
  reuse (request: FastifyRequest, event: ReuseEvent): Promise<void>
}

/** Calls a host's audit hook; one that throws is logged, and the request goes on as decided. */
async function report<E> (hook: ((event: E, request: FastifyRequest) => void | Promise<void>) | undefined, name: string, request: FastifyRequest, event: E): Promise<void> {
  if (hook === undefined) return
  try {
    await hook(Object.freeze(event), request)
  } catch (error) {
    request.log.error({ err: error }, `fastify-jwt-session: the ${name} hook failed`)
  }
}

/** Binds the log lines and the host's hooks. */
export function createAudit (hooks: Readonly<AuditHooks>): Audit {
  return Object.freeze({
    async login (request: FastifyRequest, event: LoginEvent) {
      request.log.info({ sub: event.sub, sid: event.sid }, 'fastify-jwt-session: logged in')
      await report(hooks.onLogin, 'onLogin', request, event)
    },
    async loginFailed (request: FastifyRequest, event: LoginFailedEvent) {
      request.log.warn({ reason: event.reason }, 'fastify-jwt-session: login refused')
      await report(hooks.onLoginFailed, 'onLoginFailed', request, event)
    },
    async renew (request: FastifyRequest, event: RenewEvent) {
      request.log.debug({ sub: event.sub, sid: event.sid }, 'fastify-jwt-session: renewed')
      await report(hooks.onRenew, 'onRenew', request, event)
    },
    async logout (request: FastifyRequest, event: LogoutEvent) {
      request.log.info({ sub: event.sub, sid: event.sid, all: event.all }, 'fastify-jwt-session: logged out')
      await report(hooks.onLogout, 'onLogout', request, event)
    },
    async reuse (request: FastifyRequest, event: ReuseEvent) {
      request.log.warn({ sub: event.sub, sid: event.sid, jti: event.jti }, 'fastify-jwt-session: a retired token was renewed after the grace; the session is revoked')
      await report(hooks.onReuse, 'onReuse', request, event)
    }
  })
}
