import { test } from 'tap'
import { buildApp, bearer, login, verifyCredentials } from './helpers'

test('the routes are registered at their default paths, as POST only', async (t) => {
  const app = await buildApp(t)
  for (const url of ['/@login', '/@login-renew', '/@logout']) {
    t.not((await app.inject({ method: 'POST', url })).statusCode, 404, url)
    t.equal((await app.inject({ method: 'GET', url })).statusCode, 404, `GET ${url}`)
  }
  t.equal((await app.inject({ url: '/.well-known/jwks.json' })).statusCode, 404, 'no JWKS with a secret')
})

test('routes.prefix and per-route paths move the routes', async (t) => {
  const app = await buildApp(t, { routes: { prefix: '/auth', login: '/session', renew: '/session/renew', logout: '/session/end' } })
  const response = await app.inject({ method: 'POST', url: '/auth/session', payload: { login: 'alice', password: 'wonderland' } })
  t.equal(response.statusCode, 200)
  const token = response.json().token
  const renewed = await app.inject({ method: 'POST', url: '/auth/session/renew', headers: bearer(token) })
  t.equal(renewed.statusCode, 200)
  t.equal((await app.inject({ method: 'POST', url: '/auth/session/end', headers: bearer(renewed.json().token) })).statusCode, 204)
  t.equal((await app.inject({ method: 'POST', url: '/@login', payload: {} })).statusCode, 404)
})

test('each route can be turned off, and routes: false turns them all off', async (t) => {
  const partial = await buildApp(t, { routes: { renew: false, logout: false } })
  t.equal((await partial.inject({ method: 'POST', url: '/@login-renew' })).statusCode, 404)
  t.equal((await partial.inject({ method: 'POST', url: '/@logout' })).statusCode, 404)
  const token = await login(partial)
  t.equal((await partial.inject({ url: '/me', headers: bearer(token) })).statusCode, 200)

  const none = await buildApp(t, { routes: false, verifyCredentials: undefined })
  for (const url of ['/@login', '/@login-renew', '/@logout']) t.equal((await none.inject({ method: 'POST', url })).statusCode, 404, url)
  t.equal((await none.inject({ url: '/me', headers: bearer(token) })).statusCode, 200, 'authenticate works with no routes')

  const noLogin = await buildApp(t, { routes: { login: false }, verifyCredentials: undefined })
  t.equal((await noLogin.inject({ method: 'POST', url: '/@login', payload: {} })).statusCode, 404)
  t.equal((await noLogin.inject({ method: 'POST', url: '/@login-renew', headers: bearer(token) })).statusCode, 200)
  t.ok(verifyCredentials)
})
