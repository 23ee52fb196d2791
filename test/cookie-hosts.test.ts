import { test } from 'tap'
import Fastify from 'fastify'
import cookie from '@fastify/cookie'
import jwtAuth, { memoryStore } from '../lib/index'
import { SECRET, verifyCredentials } from './helpers'

test('cookie mode: a request with no cookie (a browser dropped it over plain http) gets a 401 that says why', async (t) => {
  const app = Fastify()
  t.after(() => app.close())
  await app.register(cookie)
  await app.register(jwtAuth, { secret: SECRET, verifyCredentials, revocationStore: memoryStore(), cookie: true })
  app.get('/me', { onRequest: [app.authenticate] }, async (request) => request.user.sub)
  const login = await app.inject({ method: 'POST', url: 'http://intranet.lan/@login', payload: { login: 'alice', password: 'wonderland' } })
  t.equal(login.statusCode, 200, 'the login itself succeeds')
  t.match(String(login.headers['set-cookie']), /^__Host-session=.*; Secure/, 'with a Secure cookie, which a browser keeps only over https or on localhost')
  // The browser on http://intranet.lan did not keep it: the next call carries no cookie.
  const me = await app.inject({ url: 'http://intranet.lan/me' })
  t.equal(me.statusCode, 401)
  t.equal(me.json().code, 'FST_JWT_SESSION_NO_TOKEN')
  t.equal(me.json().message, 'No Bearer token in the Authorization header, and no __Host-session cookie: browsers keep this Secure cookie only over https or on http://localhost')
  t.equal(me.headers['www-authenticate'], 'Bearer')
})

test('without cookie mode the 401 speaks of the Authorization header only', async (t) => {
  const app = Fastify()
  t.after(() => app.close())
  await app.register(jwtAuth, { secret: SECRET, verifyCredentials })
  app.get('/me', { onRequest: [app.authenticate] }, async (request) => request.user.sub)
  t.equal((await app.inject({ url: '/me' })).json().message, 'No Bearer token was found in the Authorization header')
})
