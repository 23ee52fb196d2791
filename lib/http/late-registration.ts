import type { FastifyInstance } from 'fastify'

/** What `printRoutes()` answers before any route is declared. */
const NO_ROUTES = '(empty tree)'

/**
 * Warns when routes were declared before this plugin loaded. A route declared with
 * `{ onRequest: app.authenticate }` after an `app.register(jwtAuth, …)` that was not awaited
 * read `app.authenticate` while it was still undefined, and Fastify ignores an undefined
 * hook: that route is public. Fastify keeps no trace of the undefined hook, so the plugin
 * cannot tell such a route from one that is public on purpose; it names them all, once, at
 * load. (`onRequest: [app.authenticate]`, in an array, makes Fastify itself refuse the route.)
 */
export function warnAboutEarlierRoutes (fastify: FastifyInstance): void {
  const routes = fastify.printRoutes({ commonPrefix: false })
  if (routes === NO_ROUTES) return
  fastify.log.warn({ routes }, 'fastify-jwt-session: routes were declared before this plugin loaded; one declared with onRequest: app.authenticate ' +
    'before it loaded (app.register not awaited) has no authentication. Await app.register(jwtAuth, ...) before declaring routes.')
}
