import { test } from 'tap'
import Fastify from 'fastify'
import cookiePlugin from '@fastify/cookie'
import jwtAuth, { memoryStore } from '../../lib/index'
import { SECRET, bearer, buildApp, verifyCredentials } from '../helpers'

/* Point 8: login and renew answers carry a credential, and lacked `Cache-Control: no-store`. */

test('login and renew answers say Cache-Control: no-store (RFC 6749 §5.1)', async (t) => {
  const app = await buildApp(t)
  const answer = await app.inject({ method: 'POST', url: '/@login', payload: { login: 'alice', password: 'wonderland' } })
  t.equal(answer.headers['cache-control'], 'no-store', 'login')
  const renewed = await app.inject({ method: 'POST', url: '/@login-renew', headers: bearer(answer.json().token) })
  t.equal(renewed.statusCode, 200)
  t.equal(renewed.headers['cache-control'], 'no-store', 'renew')
})

test('in cookie mode too, where the answer carries the CSRF token and sets the cookie', async (t) => {
  const app = Fastify()
  t.teardown(() => app.close())
  await app.register(cookiePlugin)
  await app.register(jwtAuth, { secret: SECRET, verifyCredentials, revocationStore: memoryStore(), cookie: true })
  const answer = await app.inject({ method: 'POST', url: '/@login', payload: { login: 'alice', password: 'wonderland' } })
  t.equal(answer.headers['cache-control'], 'no-store')
  const cookie = `__Host-session=${(answer.cookies as Array<{ value: string }>)[0]?.value as string}`
  const renewed = await app.inject({ method: 'POST', url: '/@login-renew', headers: { cookie, 'x-csrf-token': answer.json().csrfToken } })
  t.equal(renewed.statusCode, 200)
  t.equal(renewed.headers['cache-control'], 'no-store')
})
