import { test } from 'tap'
import type { FastifyRequest } from 'fastify'
import type { SessionClaims } from '../../lib/index'
import { bearer, buildApp, login } from '../helpers'

/*
 * "Already authenticated" was remembered per claims object, and the verified-token cache
 * hands the same claims object to every request with that token: a host hook that put
 * earlier claims back into request.user got through `authenticate` with no token at all,
 * even after the logout.
 */

test('claims an earlier request was admitted with do not admit another request', async (t) => {
  let saved: SessionClaims | undefined
  // A host's hook, e.g. a "remember the user" cache, putting earlier claims back.
  const restore = (request: FastifyRequest, _reply: unknown, done: () => void): void => {
    if (saved !== undefined && request.headers.authorization === undefined) request.user = saved
    done()
  }
  const app = await buildApp(t, {}, (app) => {
    app.get('/account', { onRequest: [restore, app.authenticate] }, async (request) => { saved = request.user; return request.user.sub })
    app.get('/reports', { onRequest: [restore, app.requireRoles('admin')] }, async (request) => request.user.sub)
    app.get('/home', { onRequest: [restore, app.authenticateOptional] }, async (request) => ({ user: request.user?.sub ?? null }))
  })
  const token = await login(app)
  t.equal((await app.inject({ url: '/account', headers: bearer(token) })).body, 'u-alice')
  t.equal((await app.inject({ url: '/account', headers: bearer(token) })).body, 'u-alice', 'a cache hit, the same claims object')
  t.equal((await app.inject({ method: 'POST', url: '/@logout', headers: bearer(token) })).statusCode, 204)

  for (const url of ['/account', '/reports']) {
    const replayed = await app.inject({ url })
    t.equal(replayed.statusCode, 401, `${url}: no token, no session`)
    t.match(replayed.body, /"code":"FST_JWT_SESSION_NO_TOKEN"/)
  }
  t.equal((await app.inject({ url: '/home' })).body, '{"user":null}', 'authenticateOptional leaves the request anonymous')
  const revoked = await app.inject({ url: '/account', headers: bearer(token) })
  t.equal(revoked.json().code, 'FST_JWT_SESSION_REVOKED_TOKEN')
})

test('a request already authenticated is not checked again, and one whose user was swapped is', async (t) => {
  let checks = 0
  const app = await buildApp(t, {}, (app) => {
    const count = (_request: FastifyRequest, _reply: unknown, done: () => void): void => { checks++; done() }
    app.get('/twice', { onRequest: [app.authenticate, count, app.requireRoles('admin'), app.authenticateOptional] }, async (request) => request.user.sub)
    const swap = (request: FastifyRequest, _reply: unknown, done: () => void): void => {
      request.user = { ...request.user, roles: ['admin'] }
      done()
    }
    app.get('/swapped', { onRequest: [app.authenticate, swap, app.requireRoles('admin')] }, async (request) => request.user.roles)
  })
  t.equal((await app.inject({ url: '/twice', headers: bearer(await login(app)) })).body, 'u-alice')
  t.equal(checks, 1)
  const bob = await login(app, 'bob')
  const swapped = await app.inject({ url: '/swapped', headers: bearer(bob) })
  t.equal(swapped.statusCode, 403, "claims a hook put there are checked anew: the token's own roles decide")
})
