import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest, RouteOptions } from 'fastify'
import type { ResolvedRoutes } from '../options/resolved'
import { TAGS } from '../routes/context'

/** Plone's error body: `{ "error": { "type", "message" } }`. */
interface PloneError { readonly type: string, readonly message: string }

/** The routes whose answers Plone's clients read, as Plone's REST API names them. */
type PloneRoute = 'login' | 'renew' | 'logout'

/** What each route answers when it fails, in plone.restapi's words (services/auth/*.py). */
const FAILED: Readonly<Record<PloneRoute, string>> = { login: 'Login failed', renew: 'Renew failed', logout: 'Logout failed' }
const MISSING_CREDENTIALS: PloneError = Object.freeze({ type: 'Missing credentials', message: 'Login and password must be provided in body.' })
const INVALID_CREDENTIALS: PloneError = Object.freeze({ type: 'Invalid credentials', message: 'Wrong login and/or password.' })
const CANNOT_INVALIDATE: PloneError = Object.freeze({ type: 'Logout failed', message: "Token can't be invalidated" })

/** The status an error answers with; anything unexpected is a 500. */
function statusOf (error: FastifyError): number {
  const status = error.statusCode
  return typeof status === 'number' && status >= 400 && status < 600 ? status : 500
}

/** The Plone body of a failed request to `route`; a 500 says nothing of its cause. */
function ploneError (route: PloneRoute, error: FastifyError, status: number): PloneError {
  if (route === 'login' && error.validation !== undefined) return MISSING_CREDENTIALS
  if (route === 'login' && status === 401) return INVALID_CREDENTIALS
  if (route === 'logout' && status === 501) return CANNOT_INVALIDATE
  if (status === 401) return { type: 'Unauthorized', message: error.message }
  return { type: FAILED[route], message: status >= 500 && status !== 501 && status !== 503 ? 'Internal Server Error' : error.message }
}

/** A route error handler answering Plone's body; headers (`WWW-Authenticate`, `Retry-After`) are kept. */
function ploneErrorHandler (route: PloneRoute) {
  return function handlePloneError (error: FastifyError, request: FastifyRequest, reply: FastifyReply): void {
    const status = statusOf(error)
    if (status >= 500) request.log.error({ err: error }, 'fastify-jwt-session: request failed')
    const headers = (error as { headers?: Record<string, string> }).headers
    if (headers !== undefined) reply.headers(headers)
    // The routes' response schemas describe Fastify's error shape; this body is Plone's.
    reply.code(status).type('application/json').serializer(JSON.stringify).send({ error: ploneError(route, error, status) })
  }
}

/**
 * `compat: 'plone'`: the plugin's routes answer their errors the way plone.restapi does,
 * and `GET /@login` lists the external login providers, of which there are none. Installed
 * before the routes are registered: an `onRoute` hook gives each of them its error handler.
 */
export function installPloneCompat (fastify: FastifyInstance, routes: ResolvedRoutes): void {
  const byPath = new Map<string, PloneRoute>()
  for (const route of ['login', 'renew', 'logout'] as const) {
    const path = routes[route]
    if (path !== false) byPath.set(path, route)
  }
  fastify.addHook('onRoute', (routeOptions: RouteOptions) => {
    // The path as the plugin declared it, without the prefix of the context it is registered in.
    const { routePath } = routeOptions as RouteOptions & { routePath: string }
    const route = routeOptions.method === 'POST' ? byPath.get(routePath) : undefined
    if (route !== undefined && routeOptions.errorHandler === undefined) routeOptions.errorHandler = ploneErrorHandler(route)
  })
  if (routes.login === false) return
  fastify.get(routes.login, {
    schema: {
      summary: 'The external login providers (Plone): none',
      tags: TAGS,
      response: { 200: { type: 'object', properties: { options: { type: 'array', maxItems: 0 } }, required: ['options'] } }
    }
  }, async () => ({ options: [] }))
}
