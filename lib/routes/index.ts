import type { FastifyInstance } from 'fastify'
import type { RouteContext } from './context'
import { registerJwks } from './jwks'
import { registerLogin } from './login'
import { registerLogout } from './logout'
import { registerRenew } from './renew'

export type { RouteContext } from './context'

/** Registers `POST /@login`, `POST /@login-renew`, `POST /@logout` and the JWKS where the options put them. */
export function registerRoutes (fastify: FastifyInstance, context: RouteContext): void {
  const { routes } = context.options
  if (routes.login !== false) registerLogin(fastify, routes.login, context)
  if (routes.renew !== false) registerRenew(fastify, routes.renew, context)
  if (routes.logout !== false) registerLogout(fastify, routes.logout, context)
  const jwks = context.keyring.jwks
  if (routes.jwks !== false && jwks !== undefined) registerJwks(fastify, routes.jwks, jwks)
}
