import cookiePlugin from '@fastify/cookie'
import Fastify from 'fastify'
import { request } from 'node:http'
import type { AddressInfo } from 'node:net'
import { test } from 'tap'
import jwtAuth, { memoryStore, type RevocationStore, type SessionEvictedEvent, type LogoutEvent } from '../lib/index'
import { bearer, buildApp, decodePayload, fakeClock, login, renew, SECRET, USERS, verifyCredentials } from './helpers'

/** Logs alice in from `ip` with `userAgent`, and answers the token. */
async function loginFrom (app: Awaited<ReturnType<typeof buildApp>>, ip: string, userAgent?: string): Promise<string> {
  const response = await app.inject({
    method: 'POST',
    url: '/@login',
    remoteAddress: ip,
    headers: userAgent === undefined ? {} : { 'user-agent': userAgent },
    payload: { login: 'alice', password: (USERS.alice as [string, unknown])[0] }
  })
  t0(response.statusCode === 200, response.body)
  return response.json().token
}

function t0 (ok: boolean, why: string): void {
  if (!ok) throw new Error(why)
}

/** The caller's sessions, as the route lists them. */
async function listed (app: Awaited<ReturnType<typeof buildApp>>, token: string): Promise<Array<Record<string, any>>> {
  const response = await app.inject({ url: '/@sessions', headers: bearer(token) })
  t0(response.statusCode === 200, response.body)
  return response.json().sessions
}

test('three logins from different places are listed newest first, the caller\'s marked current', async (t) => {
  const app = await buildApp(t)
  const first = await loginFrom(app, '10.0.0.1', 'Firefox')
  const second = await loginFrom(app, '10.0.0.2', 'Safari')
  const third = await loginFrom(app, '10.0.0.3', '')
  await login(app, 'bob')
  const sessions = await listed(app, second)
  t.same(sessions.map((session) => session.id), [third, second, first].map((token) => decodePayload(token).sid))
  t.same(sessions.map((session) => session.current), [false, true, false])
  t.same(sessions.map((session) => [session.ip, session.userAgent]), [['10.0.0.3', ''], ['10.0.0.2', 'Safari'], ['10.0.0.1', 'Firefox']])
  const newest = sessions[0] as Record<string, string>
  t.equal(newest.createdAt, new Date(decodePayload(third).auth_us / 1000).toISOString(), 'ISO 8601 times')
  t.equal(newest.lastSeenAt, newest.createdAt, 'seen last at the login')
  t.ok(Date.parse(newest.expiresAt as string) > Date.now())
  const api = await app.jwtAuth.sessions('u-alice')
  t.same(api, sessions.map(({ current, ...rest }) => rest), 'jwtAuth.sessions() answers the same, without current')
  t.same(await app.jwtAuth.sessions('nobody'), [])
  t.equal((await app.inject({ url: '/@sessions' })).statusCode, 401, 'authenticated like any route')
})

test('a user-agent is kept to 512 characters; a client that sends none is listed with \'\'', async (t) => {
  const app = await buildApp(t)
  const token = await loginFrom(app, '10.0.0.1', 'x'.repeat(2000))
  t.equal((await listed(app, token))[0]?.userAgent, 'x'.repeat(512))
  // Over the wire: inject always sends a user-agent of its own; node:http sends none.
  await app.listen({ port: 0, host: '127.0.0.1' })
  const { port } = app.server.address() as AddressInfo
  const body = JSON.stringify({ login: 'bob', password: 'builder' })
  const answer = await new Promise<string>((resolve, reject) => {
    const sent = request({ host: '127.0.0.1', port, method: 'POST', path: '/@login', headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } }, (response) => {
      let text = ''
      response.on('data', (chunk: Buffer) => { text += chunk.toString() })
      response.on('end', () => { resolve(text) })
    })
    sent.on('error', reject)
    sent.end(body)
  })
  const [session] = await listed(app, JSON.parse(answer).token) as [Record<string, string>]
  t.same([session.ip, session.userAgent], ['127.0.0.1', ''])
})

test('DELETE ends another of one\'s own sessions at once; the caller goes on', async (t) => {
  const events: LogoutEvent[] = []
  const app = await buildApp(t, { onLogout: (event) => { events.push(event) } })
  const phone = await login(app)
  const laptop = await login(app)
  const sid = decodePayload(phone).sid as string
  const response = await app.inject({ method: 'DELETE', url: `/@sessions/${sid}`, headers: bearer(laptop) })
  t.equal(response.statusCode, 204)
  t.equal((await app.inject({ url: '/me', headers: bearer(phone) })).json().code, 'FST_JWT_SESSION_REVOKED_TOKEN')
  t.equal((await app.inject({ url: '/me', headers: bearer(laptop) })).statusCode, 200)
  t.same(events, [{ sub: 'u-alice', sid, all: false }])
  t.same((await listed(app, laptop)).map((session) => session.id), [decodePayload(laptop).sid])
  t.equal((await app.inject({ method: 'DELETE', url: `/@sessions/${sid}`, headers: bearer(laptop) })).statusCode, 404, 'an ended one is not found')
})

test('DELETE of one\'s own current session is a logout', async (t) => {
  const app = await buildApp(t)
  const token = await login(app)
  t.equal((await app.inject({ method: 'DELETE', url: `/@sessions/${decodePayload(token).sid}`, headers: bearer(token) })).statusCode, 204)
  t.equal((await app.inject({ url: '/me', headers: bearer(token) })).statusCode, 401)
})

test('{ others: true } ends every other session of the caller; this one goes on', async (t) => {
  const events: LogoutEvent[] = []
  const app = await buildApp(t, { onLogout: (event) => { events.push(event) } })
  const others = [await login(app), await login(app)]
  const bob = await login(app, 'bob')
  const mine = await login(app)
  const response = await app.inject({ method: 'POST', url: '/@logout', headers: bearer(mine), payload: { others: true } })
  t.equal(response.statusCode, 204)
  for (const token of others) t.equal((await app.inject({ url: '/me', headers: bearer(token) })).statusCode, 401)
  t.equal((await app.inject({ url: '/me', headers: bearer(mine) })).statusCode, 200)
  t.equal((await app.inject({ url: '/me', headers: bearer(bob) })).statusCode, 200, 'another user is untouched')
  t.same(events, [{ sub: 'u-alice', sid: decodePayload(mine).sid, all: false, others: true }])
  const both = await app.inject({ method: 'POST', url: '/@logout', headers: bearer(mine), payload: { all: true, others: true } })
  t.equal(both.statusCode, 400)
  t.equal(both.json().code, 'FST_ERR_VALIDATION')
  t.equal((await app.inject({ url: '/me', headers: bearer(mine) })).statusCode, 200, 'the 400 ended nothing')
})

test('maxSessionsPerUser: a login past it ends the least recently used session, reported to onSessionEvicted', async (t) => {
  const clock = fakeClock(t)
  const evicted: SessionEvictedEvent[] = []
  const app = await buildApp(t, { maxSessionsPerUser: 3, onSessionEvicted: (event) => { evicted.push(event) } })
  const first = await login(app)
  clock.tick(1_000)
  const second = await login(app)
  clock.tick(1_000)
  const third = await login(app)
  clock.tick(1_000)
  // The first is renewed: the second is now the least recently used.
  const renewed = (await renew(app, first)).json().token as string
  clock.tick(1_000)
  const fourth = await login(app)
  t.same(evicted, [{ sub: 'u-alice', sid: decodePayload(second).sid, by: decodePayload(fourth).sid, reason: 'max_sessions' }])
  t.equal((await app.inject({ url: '/me', headers: bearer(second) })).json().code, 'FST_JWT_SESSION_REVOKED_TOKEN')
  for (const token of [renewed, third, fourth]) t.equal((await app.inject({ url: '/me', headers: bearer(token) })).statusCode, 200)
  t.equal((await listed(app, fourth)).length, 3)
})

test('a renewal updates lastSeenAt, ip and user agent, and keeps auth_time', async (t) => {
  const clock = fakeClock(t)
  const app = await buildApp(t)
  const token = await loginFrom(app, '10.0.0.1', 'Old')
  clock.tick(5_000)
  const response = await app.inject({ method: 'POST', url: '/@login-renew', remoteAddress: '10.0.0.9', headers: { ...bearer(token), 'user-agent': 'New' } })
  const next = response.json().token as string
  t.equal(decodePayload(next).auth_time, decodePayload(token).auth_time, 'auth_time is kept')
  const [session] = await listed(app, next) as [Record<string, string>]
  t.same([session.ip, session.userAgent], ['10.0.0.9', 'New'])
  t.equal(Date.parse(session.lastSeenAt as string) - Date.parse(session.createdAt as string) >= 5_000, true, 'seen at the renewal')
})

test('a registry that fails at a renewal: 503 before the session moves, and a retry renews', async (t) => {
  const store = memoryStore()
  const app = await buildApp(t, { revocationStore: store })
  const token = await login(app)
  const touch = store.registry.touch.bind(store.registry)
  store.registry.touch = () => { throw new Error('down') }
  const refused = await renew(app, token)
  t.equal(refused.statusCode, 503)
  t.equal(refused.json().code, 'FST_JWT_SESSION_STORE_UNAVAILABLE')
  store.registry.touch = touch
  t.equal((await renew(app, token)).statusCode, 200, 'the retry is a plain renewal, no replay')
})

test('requireFresh: a login older than maxAge is refused with the RFC 9470 challenge; a new login passes', async (t) => {
  const clock = fakeClock(t)
  const app = await buildApp(t, {}, (app) => {
    app.post('/transfer', { preHandler: app.requireFresh('5m') }, async () => ({ ok: true }))
    app.post('/authenticated', { onRequest: app.authenticate, preHandler: app.requireFresh(300) }, async () => ({ ok: true }))
  })
  const token = await login(app)
  t.equal((await app.inject({ method: 'POST', url: '/transfer', headers: bearer(token) })).statusCode, 200)
  t.equal((await app.inject({ method: 'POST', url: '/transfer' })).statusCode, 401, 'authenticates first')
  clock.tick(301_000)
  const renewed = (await renew(app, token)).json().token as string
  for (const [url, used] of [['/transfer', token], ['/transfer', renewed], ['/authenticated', renewed]] as const) {
    const stale = await app.inject({ method: 'POST', url, headers: bearer(used) })
    t.equal(stale.statusCode, 401)
    t.equal(stale.json().code, 'FST_JWT_SESSION_INSUFFICIENT_AUTHENTICATION')
    t.equal(stale.headers['www-authenticate'], 'Bearer error="insufficient_user_authentication", error_description="A more recent login is required", max_age="300"')
  }
  const fresh = await login(app)
  t.not(decodePayload(fresh).sid, decodePayload(token).sid, 'a new session')
  t.equal((await app.inject({ method: 'POST', url: '/transfer', headers: bearer(fresh) })).statusCode, 200)
  t.throws(() => app.requireFresh('soon'), { name: 'OptionError' })
  t.throws(() => app.requireFresh(0 as never), { name: 'OptionError' })
})

/** A store with everything but a registry. */
function storeWithoutRegistry (): RevocationStore {
  const inner = memoryStore()
  return { session: inner.session, subject: inner.subject, renew: inner.renew, end: inner.end, endSubject: inner.endSubject }
}

test('a store without a registry serves everything else; asking for the sessions fails at registration', async (t) => {
  const app = await buildApp(t, { revocationStore: storeWithoutRegistry() })
  t.equal((await app.inject({ url: '/@sessions', headers: bearer(await login(app)) })).statusCode, 404, 'no route')
  const token = await login(app)
  const others = await app.inject({ method: 'POST', url: '/@logout', headers: bearer(token), payload: { others: true } })
  t.equal(others.statusCode, 501)
  await t.rejects(app.jwtAuth.sessions('u-alice'), { statusCode: 501 } as never)
  await t.rejects(app.jwtAuth.endSession('u-alice', 'x'), { statusCode: 501 } as never)
  t.equal((await app.inject({ method: 'POST', url: '/@logout', headers: bearer(token) })).statusCode, 204, 'a logout works')
  for (const options of [{ routes: { sessions: '/x' } }, { maxSessionsPerUser: 5 }]) {
    const other = Fastify()
    t.teardown(() => other.close())
    await t.rejects(async () => { await other.register(jwtAuth, { secret: SECRET, verifyCredentials, revocationStore: storeWithoutRegistry(), ...options }) }, {
      name: 'OptionError',
      message: /registry \(registry\.add\(\), registry\.touch\(\), registry\.list\(\), registry\.ended\(\), registry\.forget\(\)\)/
    })
  }
  const off = await buildApp(t, { routes: { sessions: false } })
  t.equal((await off.inject({ url: '/@sessions', headers: bearer(await login(off)) })).statusCode, 404, 'turned off')
  const bad = Fastify()
  t.teardown(() => bad.close())
  await t.rejects(async () => { await bad.register(jwtAuth, { secret: SECRET, verifyCredentials, revocationStore: memoryStore(), maxSessionsPerUser: 0 }) }, { name: 'OptionError' })
})

test('cookie mode: DELETE without the CSRF header is refused; with it, ending one\'s own session clears the cookie', async (t) => {
  const app = Fastify()
  t.teardown(() => app.close())
  await app.register(cookiePlugin)
  await app.register(jwtAuth, { secret: SECRET, verifyCredentials, revocationStore: memoryStore(), cookie: true })
  const loggedIn = await app.inject({ method: 'POST', url: '/@login', payload: { login: 'alice', password: 'wonderland' } })
  const cookie = loggedIn.cookies.map((set: { name: string, value: string }) => `${set.name}=${set.value}`).join('; ')
  const { csrfToken } = loggedIn.json()
  const [session] = (await app.inject({ url: '/@sessions', headers: { cookie } })).json().sessions
  const refused = await app.inject({ method: 'DELETE', url: `/@sessions/${session.id}`, headers: { cookie } })
  t.equal(refused.statusCode, 403)
  t.equal(refused.json().code, 'FST_JWT_SESSION_CSRF')
  const ended = await app.inject({ method: 'DELETE', url: `/@sessions/${session.id}`, headers: { cookie, 'x-csrf-token': csrfToken } })
  t.equal(ended.statusCode, 204)
  t.ok(ended.cookies.some((set: { name: string, maxAge?: number }) => set.name === '__Host-session' && set.maxAge === 0), 'the cookie is cleared')
})
