import { test } from 'tap'
import Fastify, { type FastifyInstance } from 'fastify'
import cookiePlugin from '@fastify/cookie'
import jwtAuth, { memoryStore } from '../../lib/index'
import { SECRET, bearer, verifyCredentials } from '../helpers'

/*
 * In cookie mode a cross-site POST /@logout with no cookie got a Set-Cookie that cleared the
 * session cookie, and so did a logout by Bearer header that carried none: a request that
 * carried no session cookie now never gets a Set-Cookie for it.
 */

async function cookieApp (t: { teardown (fn: () => unknown): void }): Promise<FastifyInstance> {
  const app = Fastify()
  t.teardown(() => app.close())
  await app.register(cookiePlugin)
  await app.register(jwtAuth, { secret: SECRET, verifyCredentials, revocationStore: memoryStore(), cookie: true })
  await app.ready()
  return app
}

test('a logout with no cookie and no header answers 401 with no Set-Cookie', async (t) => {
  const app = await cookieApp(t)
  const crossSite = await app.inject({ method: 'POST', url: '/@logout', headers: { origin: 'https://evil.example' } })
  t.equal(crossSite.statusCode, 401)
  t.equal(crossSite.json().code, 'FST_JWT_SESSION_NO_TOKEN')
  t.equal(crossSite.headers['set-cookie'], undefined, 'nothing to clear, nothing cleared')
  const otherCookie = await app.inject({ method: 'POST', url: '/@logout', headers: { cookie: 'theme=dark' } })
  t.equal(otherCookie.statusCode, 401)
  t.equal(otherCookie.headers['set-cookie'], undefined, 'another cookie is not the session cookie')
})

test('a logout by Bearer header, with no cookie, answers 204 with no Set-Cookie', async (t) => {
  const app = await cookieApp(t)
  // In cookie mode the login answer carries the token in the cookie only; a native client signs in elsewhere.
  const token = app.jwtAuth.sign({ sub: 'u-alice', roles: ['admin'] })
  const loggedOut = await app.inject({ method: 'POST', url: '/@logout', headers: bearer(token) })
  t.equal(loggedOut.statusCode, 204)
  t.equal(loggedOut.headers['set-cookie'], undefined)
})

test('a logout that carried the cookie still clears it', async (t) => {
  const app = await cookieApp(t)
  const answer = await app.inject({ method: 'POST', url: '/@login', payload: { login: 'alice', password: 'wonderland' } })
  const cookie = `__Host-session=${(answer.cookies as Array<{ value: string }>)[0]?.value as string}`
  const loggedOut = await app.inject({ method: 'POST', url: '/@logout', headers: { cookie, 'x-csrf-token': answer.json().csrfToken } })
  t.equal(loggedOut.statusCode, 204)
  t.match(String(loggedOut.headers['set-cookie']), /^__Host-session=;/)
  const empty = await app.inject({ method: 'POST', url: '/@logout', headers: { cookie: '__Host-session=' } })
  t.equal(empty.statusCode, 401)
  t.match(String(empty.headers['set-cookie']), /^__Host-session=;/, 'an empty session cookie is still the cookie: cleared')
})
