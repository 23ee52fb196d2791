import type { FastifyInstance } from 'fastify'
import type { ResolvedFeed } from '../options/resolved'
import type { RouteContext } from './context'
import { registerJwks } from './jwks'
import { registerLogin } from './login'
import { registerLogout } from './logout'
import { registerRenew } from './renew'
import { registerRevocations } from './revocations'
import { registerSessions } from './sessions'

export type { RouteContext } from './context'

/** Registers `POST /@login`, `POST /@login-renew`, `POST /@logout`, `/@sessions`, the JWKS and the revocation feed where the options put them. */
export function registerRoutes (fastify: FastifyInstance, context: RouteContext): void {
  const { routes } = context.options
  if (routes.login !== false) registerLogin(fastify, routes.login, context)
  if (routes.renew !== false) registerRenew(fastify, routes.renew, context)
  if (routes.logout !== false) registerLogout(fastify, routes.logout, context)
  // The options turn it off for a store without a registry.
  if (routes.sessions !== false) registerSessions(fastify, routes.sessions, context)
  const jwks = context.keyring.jwks
  if (routes.jwks !== false && jwks !== undefined) registerJwks(fastify, routes.jwks, jwks)
  // The options make sure a feed has its route and its store.
  const { publisher } = context
  if (publisher !== undefined) registerRevocations(fastify, routes.revocations as string, context.options.revocationFeed as ResolvedFeed, publisher)
}
