import type { JwtSessionOptions, RevocationStore, SessionRegistry } from '../types'
import { fail, isPlainObject, wholeNumber } from './checks'
import { DEFAULTS, REGISTRY_METHODS } from './defaults'
import type { ResolvedRoutes } from './resolved'

/** What the sessions a user can see and end need: the store's registry, the cap, and the routes. */
export interface ResolvedSessions {
  readonly registry: SessionRegistry | undefined
  readonly maxSessionsPerUser: number
  /** The routes, with `sessions` off when the store has no registry. */
  readonly routes: ResolvedRoutes
}

/** The store's registry, when it has one with every method (feature-detected). */
function registryOf (store: RevocationStore | undefined): SessionRegistry | undefined {
  const registry: unknown = store?.registry
  if (typeof registry !== 'object' || registry === null) return undefined
  const methods = registry as Record<string, unknown>
  return REGISTRY_METHODS.every((method) => typeof methods[method] === 'function') ? registry as SessionRegistry : undefined
}

/**
 * `maxSessionsPerUser` and `routes.sessions`: on by default when the store has a registry,
 * quietly off when it has none, unless asked for explicitly: then the registration fails,
 * naming the methods a store needs.
 */
export function resolveSessions (options: JwtSessionOptions<never>, store: RevocationStore | undefined, routes: ResolvedRoutes): ResolvedSessions {
  const registry = registryOf(store)
  const methods = REGISTRY_METHODS.map((method) => `registry.${method}()`).join(', ')
  const asked = isPlainObject(options.routes) && typeof options.routes.sessions === 'string'
  if (registry === undefined && asked) fail(`routes.sessions needs a revocationStore with a registry (${methods})`)
  if (registry === undefined && options.maxSessionsPerUser !== undefined) {
    fail(`maxSessionsPerUser needs a revocationStore with a registry (${methods})`)
  }
  const maxSessionsPerUser = wholeNumber('maxSessionsPerUser', options.maxSessionsPerUser ?? DEFAULTS.maxSessionsPerUser, 1, 'a positive whole number')
  return Object.freeze({
    registry,
    maxSessionsPerUser,
    routes: registry === undefined && routes.sessions !== false ? Object.freeze({ ...routes, sessions: false }) : routes
  })
}
