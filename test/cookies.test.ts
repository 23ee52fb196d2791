import { test } from 'tap'
import Fastify, { type FastifyInstance, type InjectOptions, type LightMyRequestResponse } from 'fastify'
import cookiePlugin from '@fastify/cookie'
import jwtAuth, { OptionError, memoryStore, type JwtSessionOptions } from '../lib/index'
import { SECRET, bearer, decodePayload, fakeClock, forge, login, validClaims, verifyCredentials } from './helpers'

/** An app in cookie mode: `GET /me`, and `POST /orders` and `DELETE /orders` that change state. */
async function cookieApp (t: { teardown (fn: () => unknown): void }, options: JwtSessionOptions = {}): Promise<FastifyInstance> {
  const app = Fastify()
  t.teardown(() => app.close())
  await app.register(cookiePlugin)
  await app.register(jwtAuth, { secret: SECRET, verifyCredentials, revocationStore: memoryStore(), expiresIn: '1h', cookie: true, ...options })
  app.get('/me', { onRequest: app.authenticate }, async (request) => request.user)
  app.post('/orders', { onRequest: app.authenticate }, async (request) => ({ orderedBy: request.user.sub }))
  app.delete('/orders', { onRequest: app.authenticate }, async () => ({ deleted: true }))
  await app.ready()
  return app
}

/** A browser's cookie jar, as far as these tests need one: it keeps, replaces and drops cookies. */
class CookieJar {
  readonly cookies = new Map<string, string>()

  /** Sends `options` with the jar's cookies, and keeps what the answer sets. */
  async send (app: FastifyInstance, options: InjectOptions): Promise<LightMyRequestResponse> {
    const cookie = [...this.cookies].map(([name, value]) => `${name}=${value}`).join('; ')
    const response = await app.inject({ ...options, headers: { ...options.headers, ...(cookie === '' ? {} : { cookie }) } })
    for (const set of response.cookies as Array<{ name: string, value: string, maxAge?: number, expires?: Date }>) {
      const expired = set.maxAge === 0 || (set.expires !== undefined && set.expires.getTime() <= Date.now())
      if (expired) this.cookies.delete(set.name)
      else this.cookies.set(set.name, set.value)
    }
    return response
  }
}

const ALICE = { login: 'alice', password: 'wonderland' }

test('login in cookie mode sets an HttpOnly, Secure, SameSite=Strict cookie and answers only the CSRF token', async (t) => {
  const app = await cookieApp(t)
  const response = await app.inject({ method: 'POST', url: '/@login', payload: ALICE })
  t.equal(response.statusCode, 200)
  const body = response.json()
  t.same(Object.keys(body), ['csrfToken'], 'no token in the body: scripts cannot read it')
  t.match(body.csrfToken, /^[A-Za-z0-9_-]{22}$/)
  const header = String(response.headers['set-cookie'])
  t.match(header, /^__Host-session=[\w-]+\.[\w-]+\.[\w-]+;/)
  for (const attribute of ['Max-Age=3600', 'Path=/', 'HttpOnly', 'Secure', 'SameSite=Strict']) t.ok(header.includes(attribute), attribute)
  t.notMatch(header, /Domain=/i)
  const [cookie] = response.cookies as Array<{ value: string }>
  t.equal(decodePayload((cookie as { value: string }).value).csrf, body.csrfToken, 'the CSRF token is signed into the token it protects')
})

test('a browser-like flow: log in, read, change state with the CSRF header, renew, log out', async (t) => {
  const app = await cookieApp(t)
  const jar = new CookieJar()
  const { csrfToken } = (await jar.send(app, { method: 'POST', url: '/@login', payload: ALICE })).json()
  const loggedIn = jar.cookies.get('__Host-session') as string

  t.equal((await jar.send(app, { url: '/me' })).json().sub, 'u-alice', 'GET needs no CSRF token')
  const noHeader = await jar.send(app, { method: 'POST', url: '/orders' })
  t.equal(noHeader.statusCode, 403)
  t.equal(noHeader.json().code, 'FST_JWT_SESSION_CSRF')
  t.equal((await jar.send(app, { method: 'POST', url: '/orders', headers: { 'x-csrf-token': `${csrfToken as string}x` } })).statusCode, 403, 'a wrong token')
  t.equal((await jar.send(app, { method: 'POST', url: '/orders', headers: { 'x-csrf-token': '' } })).statusCode, 403, 'an empty one')
  t.equal((await jar.send(app, { method: 'DELETE', url: '/orders' })).statusCode, 403, 'DELETE changes state too')
  t.same((await jar.send(app, { method: 'POST', url: '/orders', headers: { 'x-csrf-token': csrfToken } })).json(), { orderedBy: 'u-alice' })

  t.equal((await jar.send(app, { method: 'POST', url: '/@login-renew' })).statusCode, 403, 'renewing needs the CSRF token')
  const renewed = await jar.send(app, { method: 'POST', url: '/@login-renew', headers: { 'x-csrf-token': csrfToken } })
  t.equal(renewed.statusCode, 200)
  t.same(renewed.json(), { csrfToken }, 'the session keeps its CSRF token')
  t.not(jar.cookies.get('__Host-session'), loggedIn, 'a new token in the cookie')
  t.equal((await app.inject({ url: '/me', headers: { cookie: `__Host-session=${loggedIn}` } })).statusCode, 200, 'the old cookie lives on for renewGrace (another tab may still send it)')

  t.equal((await jar.send(app, { method: 'POST', url: '/@logout' })).statusCode, 403, 'logging out needs the CSRF token')
  const renewedCookie = jar.cookies.get('__Host-session') as string
  const out = await jar.send(app, { method: 'POST', url: '/@logout', headers: { 'x-csrf-token': csrfToken } })
  t.equal(out.statusCode, 204)
  t.match(String(out.headers['set-cookie']), /^__Host-session=;.*Expires=Thu, 01 Jan 1970/, 'the cookie is cleared')
  t.equal(jar.cookies.size, 0)
  t.equal((await jar.send(app, { url: '/me' })).json().code, 'FST_JWT_SESSION_NO_TOKEN')
  t.equal((await app.inject({ url: '/me', headers: { cookie: `__Host-session=${renewedCookie}` } })).json().code, 'FST_JWT_SESSION_REVOKED_TOKEN', 'a copy of the cookie is revoked')
})

test('the Authorization header takes precedence over the cookie, and needs no CSRF token', async (t) => {
  const app = await cookieApp(t)
  const jar = new CookieJar()
  await jar.send(app, { method: 'POST', url: '/@login', payload: ALICE })
  const bobLogin = await app.inject({ method: 'POST', url: '/@login', payload: { login: 'bob', password: 'builder' } })
  t.notOk(bobLogin.json().token, 'in cookie mode the login answer has no token')
  const bobToken = app.jwtAuth.sign({ sub: 'u-bob', roles: ['user'] })
  t.equal((await jar.send(app, { url: '/me', headers: bearer(bobToken) })).json().sub, 'u-bob', 'the header wins')
  t.equal((await jar.send(app, { url: '/me', headers: bearer('not.a.token') })).json().code, 'FST_JWT_SESSION_INVALID_TOKEN', 'a bad header is not rescued by a good cookie')
  t.equal((await jar.send(app, { url: '/me', headers: { authorization: 'Basic eDp5' } })).json().code, 'FST_JWT_SESSION_NO_TOKEN', 'another scheme is not either')
  t.same((await jar.send(app, { method: 'POST', url: '/orders', headers: bearer(bobToken) })).json(), { orderedBy: 'u-bob' }, 'a Bearer request cannot be forged by another site')
  const renewed = await app.inject({ method: 'POST', url: '/@login-renew', headers: bearer(bobToken) })
  t.same(Object.keys(renewed.json()), ['token'], 'a token renewed by header comes back in the body')
  t.notOk(renewed.headers['set-cookie'])
})

test('a cookie token without a CSRF claim can read but never change state', async (t) => {
  const app = await cookieApp(t)
  const token = forge({ alg: 'HS256', typ: 'JWT' }, validClaims())
  t.equal((await app.inject({ url: '/me', headers: { cookie: `__Host-session=${token}` } })).statusCode, 200)
  t.equal((await app.inject({ method: 'POST', url: '/orders', headers: { cookie: `__Host-session=${token}`, 'x-csrf-token': 'undefined' } })).statusCode, 403)
})

test('a bad cookie gets the same answers as a bad header', async (t) => {
  const app = await cookieApp(t)
  const cases: Array<[string, string]> = [
    ['__Host-session=', 'FST_JWT_SESSION_NO_TOKEN'],
    ['other=1', 'FST_JWT_SESSION_NO_TOKEN'],
    ['__Host-session=garbage', 'FST_JWT_SESSION_INVALID_TOKEN'],
    [`__Host-session=${forge({ alg: 'HS256', typ: 'JWT' }, validClaims({ exp: 1 }))}`, 'FST_JWT_SESSION_EXPIRED_TOKEN']
  ]
  for (const [cookie, code] of cases) {
    const response = await app.inject({ url: '/me', headers: { cookie } })
    t.equal(response.statusCode, 401, cookie)
    t.equal(response.json().code, code, cookie)
  }
})

test('the cookie name and the CSRF header can be chosen', async (t) => {
  const app = await cookieApp(t, { cookie: { name: 'sid', csrfHeader: 'X-XSRF-Token' } })
  const jar = new CookieJar()
  const { csrfToken } = (await jar.send(app, { method: 'POST', url: '/@login', payload: ALICE })).json()
  t.same([...jar.cookies.keys()], ['sid'])
  t.equal((await jar.send(app, { method: 'POST', url: '/orders', headers: { 'x-csrf-token': csrfToken } })).statusCode, 403)
  t.equal((await jar.send(app, { method: 'POST', url: '/orders', headers: { 'x-xsrf-token': csrfToken } })).statusCode, 200)
})

test('without cookie mode a cookie is never read, and tokens carry no CSRF claim', async (t) => {
  const app = Fastify()
  t.teardown(() => app.close())
  await app.register(cookiePlugin)
  await app.register(jwtAuth, { secret: SECRET, verifyCredentials })
  app.get('/me', { onRequest: app.authenticate }, async (request) => request.user)
  const token = await login(app)
  t.notOk(decodePayload(token).csrf)
  t.equal((await app.inject({ url: '/me', headers: { cookie: `__Host-session=${token}` } })).json().code, 'FST_JWT_SESSION_NO_TOKEN')
})

test('cookie mode refuses to start without @fastify/cookie, and refuses bad cookie options', async (t) => {
  const app = Fastify()
  t.teardown(() => app.close())
  const error = await app.register(jwtAuth, { secret: SECRET, verifyCredentials, cookie: true }).then(() => undefined, (error: unknown) => error)
  t.type(error, OptionError)
  t.match((error as Error).message, /cookie needs @fastify\/cookie, registered before this plugin/)
  const refused: Array<[unknown, RegExp]> = [
    ['yes', /cookie must be true, false or an object/],
    [{ name: 'a b' }, /cookie.name must be a cookie name/],
    [{ name: 'a;b' }, /cookie.name must be a cookie name/],
    [{ csrfHeader: 'x csrf' }, /cookie.csrfHeader must be a header name/],
    [{ sameSite: 'lax' }, /cookie.sameSite is not a known cookie option/]
  ]
  for (const [cookie, message] of refused) {
    const other = Fastify()
    t.teardown(() => other.close())
    await other.register(cookiePlugin)
    const failure = await other.register(jwtAuth, { secret: SECRET, verifyCredentials, cookie: cookie as JwtSessionOptions['cookie'] }).then(() => undefined, (error: unknown) => error)
    t.match((failure as Error).message, message, JSON.stringify(cookie))
  }
})

test('with idleTimeout the cookie outlives its token by the idle timeout, and a browser renews an expired one with it', async (t) => {
  const clock = fakeClock(t)
  const app = await cookieApp(t, { idleTimeout: '2h', clockTolerance: 0 })
  const jar = new CookieJar()
  const first = await jar.send(app, { method: 'POST', url: '/@login', payload: ALICE })
  t.match(String(first.headers['set-cookie']), /Max-Age=10800;/, 'expiresIn + idleTimeout')
  clock.tick(2 * 3600_000)
  t.equal((await jar.send(app, { url: '/me' })).json().code, 'FST_JWT_SESSION_EXPIRED_TOKEN', 'the expired token opens no route')
  const renewed = await jar.send(app, { method: 'POST', url: '/@login-renew', headers: { 'x-csrf-token': first.json().csrfToken } })
  t.equal(renewed.statusCode, 200)
  t.match(String(renewed.headers['set-cookie']), /Max-Age=10800;/)
  t.equal((await jar.send(app, { url: '/me' })).statusCode, 200)
})
