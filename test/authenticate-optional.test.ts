import { test } from 'tap'
import { memoryStore, type RevocationStore } from '../lib/index'
import { bearer, buildApp, fakeClock, forge, issue, login, validClaims } from './helpers'

/** A public page that shows more to a signed-in user. */
function page (app: import('fastify').FastifyInstance): void {
  app.get('/page', { onRequest: [app.authenticateOptional] }, async (request) => ({ user: request.user === null ? null : request.user.sub }))
}

test('authenticateOptional: a valid token sets request.user; none leaves it null and the route runs', async (t) => {
  const app = await buildApp(t, {}, page)
  const token = await login(app)
  t.same((await app.inject({ url: '/page', headers: bearer(token) })).json(), { user: 'u-alice' })
  t.same((await app.inject({ url: '/page' })).json(), { user: null })
})

test('authenticateOptional: an invalid, expired, revoked or malformed token is anonymous, not an error', async (t) => {
  const clock = fakeClock(t)
  const app = await buildApp(t, { expiresIn: 60 }, page)
  const token = await login(app)
  const revoked = await login(app, 'bob')
  t.equal((await app.inject({ method: 'POST', url: '/@logout', headers: bearer(revoked) })).statusCode, 204)
  for (const [name, headers] of [
    ['revoked', bearer(revoked)],
    ['forged', bearer(forge({ alg: 'HS256', typ: 'JWT' }, validClaims(), 'another-secret-of-at-least-32-bytes!!'))],
    ['malformed header', { authorization: 'Bearer a b' }],
    ['another scheme', { authorization: 'Basic YTpi' }]
  ] as const) {
    const response = await app.inject({ url: '/page', headers })
    t.equal(response.statusCode, 200, name)
    t.same(response.json(), { user: null }, name)
  }
  clock.tick(120_000)
  t.same((await app.inject({ url: '/page', headers: bearer(token) })).json(), { user: null }, 'expired')
})

test('authenticateOptional after authenticate changes nothing', async (t) => {
  const app = await buildApp(t, {}, (app) => {
    app.get('/both', { onRequest: [app.authenticate, app.authenticateOptional] }, async (request) => request.user.sub)
  })
  t.equal((await app.inject({ url: '/both', headers: bearer(await login(app)) })).body, 'u-alice')
})

test('authenticateOptional fails closed: a store outage is 503, synchronous or not', async (t) => {
  const down = (): never => { throw new Error('down') }
  for (const [name, store] of [
    ['throws', { session: down, subject: down, renew: down, end: down, endSubject: down }],
    ['rejects', { session: async () => down(), subject: async () => down(), renew: async () => down(), end: async () => down(), endSubject: async () => down() }]
  ] as Array<[string, RevocationStore]>) {
    const app = await buildApp(t, { revocationStore: store, routes: false }, page)
    const response = await app.inject({ url: '/page', headers: bearer(await issue(app)) })
    t.equal(response.statusCode, 503, name)
    t.equal(response.json().code, 'FST_JWT_SESSION_STORE_UNAVAILABLE', name)
  }
})

test('authenticateOptional with an asynchronous store admits a valid token and drops a revoked one', async (t) => {
  // The memory store's answers, each given as a promise.
  const inner = memoryStore()
  const store: RevocationStore = {
    session: async (sid) => inner.session(sid),
    subject: async (sub) => inner.subject(sub),
    renew: async (...args) => inner.renew(...args),
    end: async (...args) => { inner.end(...args) },
    endSubject: async (...args) => { inner.endSubject(...args) }
  }
  const app = await buildApp(t, { revocationStore: store }, page)
  const token = await login(app)
  t.same((await app.inject({ url: '/page', headers: bearer(token) })).json(), { user: 'u-alice' })
  await app.inject({ method: 'POST', url: '/@logout', headers: bearer(token) })
  t.same((await app.inject({ url: '/page', headers: bearer(token) })).json(), { user: null })
})

test('request.user set by something else (a host hook, a shared @fastify/jwt decorator) is not a session', async (t) => {
  const app = await buildApp(t, {}, (app) => {
    app.register(async (scope) => {
      // A host hook that fills request.user with claims this plugin never checked.
      scope.addHook('onRequest', async (request) => { request.user = Object.freeze({ ...validClaims(), roles: ['admin'] }) as unknown as typeof request.user })
      scope.get('/scoped/me', { onRequest: [scope.authenticate] }, async (request) => request.user.sub)
      scope.get('/scoped/admin', { onRequest: [scope.requireRoles('admin')] }, async (request) => request.user.sub)
      page(scope)
    })
  })
  t.equal((await app.inject({ url: '/scoped/me' })).statusCode, 401, 'authenticate checks for itself')
  t.equal((await app.inject({ url: '/scoped/admin' })).statusCode, 401, 'so does requireRoles')
  t.same((await app.inject({ url: '/page' })).json(), { user: null }, 'authenticateOptional leaves it null')
  t.equal((await app.inject({ url: '/scoped/me', headers: bearer(await login(app, 'bob')) })).body, 'u-bob', 'a real token replaces it')
})
