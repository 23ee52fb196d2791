import type { JwtSessionOptions } from '../types'
import { fail, isPlainObject, rejectUnknownKeys } from './checks'
import { DEFAULTS, ROUTE_NAMES, ROUTES_OPTIONS } from './defaults'
import type { ResolvedRoutes } from './resolved'

/* Which routes are registered, and where. */

const NO_ROUTES: ResolvedRoutes = Object.freeze({ login: false, renew: false, logout: false, jwks: false, revocations: false, sessions: false })

function resolvePath (name: string, value: unknown, prefix: string): string | false {
  if (value === false) return false
  if (typeof value !== 'string' || !value.startsWith('/')) fail(`routes.${name} must be a path starting with '/' or false`)
  return prefix + value
}

/** The `routes` option: `false`, or an object of paths (each a path or `false`) and a prefix. */
export function resolveRoutes (routes: unknown): ResolvedRoutes {
  if (routes === false) return NO_ROUTES
  if (routes === undefined) routes = {}
  if (!isPlainObject(routes)) fail('routes must be false or an object')
  rejectUnknownKeys(routes, ROUTES_OPTIONS, 'routes.', 'route')
  const prefix = routes.prefix ?? ''
  if (typeof prefix !== 'string' || (prefix !== '' && (!prefix.startsWith('/') || prefix.endsWith('/')))) {
    fail("routes.prefix must be a path such as '/auth', starting with '/' and not ending with one")
  }
  const resolved = {} as Record<typeof ROUTE_NAMES[number], string | false>
  for (const name of ROUTE_NAMES) resolved[name] = resolvePath(name, routes[name] ?? DEFAULTS.routes[name], prefix)
  return Object.freeze(resolved)
}

/**
 * A verify-only service (a JWKS, or keys with no private key) has no route that signs:
 * asking for one, or for what only those routes use, is a mistake worth naming.
 */
export function resolveVerifyOnlyRoutes (options: JwtSessionOptions): ResolvedRoutes {
  const why = 'this service only verifies tokens (no configured key signs)'
  for (const name of ['verifyCredentials', 'loadUser'] as const) {
    if (options[name] !== undefined) fail(`${name} has no use: ${why}`)
  }
  const routes = options.routes
  if (isPlainObject(routes)) {
    for (const name of ['login', 'renew', 'logout', 'sessions'] as const) {
      if (typeof routes[name] === 'string') fail(`routes.${name} cannot be served: ${why}`)
    }
  }
  resolveRoutes(routes)
  return NO_ROUTES
}
