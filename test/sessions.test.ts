import { test } from 'tap'
import { Writable } from 'node:stream'
import Fastify from 'fastify'
import jwtAuth, { memoryStore, type ReuseEvent } from '../lib/index'
import { SECRET, bearer, buildApp, decodePayload, fakeClock, login, renew, renewChain, verifyCredentials } from './helpers'

const sleep = async (ms: number): Promise<void> => await new Promise((resolve) => setTimeout(resolve, ms))

test('the grace window: a renewed-away token works and renews to the same generation for renewGrace seconds, not after', async (t) => {
  const clock = fakeClock(t)
  const app = await buildApp(t, { renewGrace: 10 })
  const first = await login(app)
  const second = (await renew(app, first)).json().token
  clock.tick(9_000)
  t.equal((await app.inject({ url: '/me', headers: bearer(first) })).statusCode, 200, 'inside the grace the old token authenticates')
  const sibling = await renew(app, first)
  t.equal(sibling.statusCode, 200, 'and renews')
  t.equal(decodePayload(sibling.json().token).gen, 1, 'to another token of the same new generation')
  clock.tick(1_001)
  const late = await app.inject({ url: '/me', headers: bearer(first) })
  t.equal(late.statusCode, 401, 'once the grace has passed the old token is refused')
  t.equal(late.json().code, 'FST_JWT_SESSION_REVOKED_TOKEN')
  for (const token of [second, sibling.json().token]) {
    t.equal((await app.inject({ url: '/me', headers: bearer(token) })).statusCode, 200, 'both successors are valid')
  }
  const third = (await renew(app, second)).json().token
  t.equal(decodePayload(third).gen, 2)
  t.equal((await app.inject({ url: '/me', headers: bearer(first) })).statusCode, 401, 'two generations back is refused at once')
})

test('a replay after the grace ends the whole session, newest token too, and calls onReuse once', async (t) => {
  const clock = fakeClock(t)
  const events: ReuseEvent[] = []
  const app = await buildApp(t, { onReuse: (event) => { events.push(event) } })
  const stolen = await login(app)
  const victim = (await renew(app, stolen)).json().token
  clock.tick(1_001)
  const newest = (await renew(app, victim)).json().token
  clock.tick(11_000)
  const replay = await renew(app, stolen)
  t.equal(replay.statusCode, 401)
  t.equal(replay.json().code, 'FST_JWT_SESSION_REVOKED_TOKEN')
  for (const token of [stolen, victim, newest]) {
    t.equal((await app.inject({ url: '/me', headers: bearer(token) })).json().code, 'FST_JWT_SESSION_REVOKED_TOKEN')
    t.equal((await renew(app, token)).json().code, 'FST_JWT_SESSION_REVOKED_TOKEN')
  }
  const { sub, sid, jti } = decodePayload(stolen)
  t.same(events, [{ sub, sid, jti }], 'onReuse once, with the replayed token\'s ids and never the token')
  t.equal((await app.inject({ url: '/me', headers: bearer(await login(app)) })).statusCode, 200, 'a new login works')
})

test('a replay is logged at warn with its ids, never a token; an onReuse that throws is logged and changes nothing', async (t) => {
  const clock = fakeClock(t)
  const lines: Array<Record<string, unknown>> = []
  const app = Fastify({ logger: { level: 'warn', stream: new Writable({ write (chunk, _encoding, callback) { lines.push(JSON.parse(String(chunk))); callback() } }) } })
  t.teardown(() => app.close())
  await app.register(jwtAuth, { secret: SECRET, verifyCredentials, revocationStore: memoryStore(), renewGrace: 0, onReuse: () => { throw new Error('audit down') } })
  const old = await login(app)
  const fresh = (await renew(app, old)).json().token
  clock.tick(1)
  t.equal((await renew(app, old)).json().code, 'FST_JWT_SESSION_REVOKED_TOKEN')
  const { sub, sid, jti } = decodePayload(old)
  t.has(lines.find((line) => line.level === 40), { sub, sid, jti, msg: 'fastify-jwt-session: a retired token was renewed after the grace; the session is revoked' })
  t.has(lines.find((line) => line.level === 50), { msg: 'fastify-jwt-session: the onReuse hook failed' })
  const log = JSON.stringify(lines)
  for (const token of [old, fresh]) t.notOk(log.includes(token.split('.')[2] as string), 'no token in the log')
})

test('logout beats a renewal whose loadUser takes 1.2 s: the renewal is refused', async (t) => {
  const app = await buildApp(t, { loadUser: async (claims) => { await sleep(1200); return { sub: claims.sub, roles: ['admin'] } } })
  const token = await login(app)
  const renewal = renew(app, token)
  await sleep(100)
  t.equal((await app.inject({ method: 'POST', url: '/@logout', headers: bearer(token) })).statusCode, 204)
  const renewed = await renewal
  t.equal(renewed.statusCode, 401, 'the renewal reached the store after the logout')
  t.equal(renewed.json().code, 'FST_JWT_SESSION_REVOKED_TOKEN')
})

test('a logout of every session beats a renewal in flight, too', async (t) => {
  const app = await buildApp(t, { loadUser: async (claims) => { await sleep(300); return { sub: claims.sub } } })
  const token = await login(app)
  const renewal = renew(app, token)
  await sleep(50)
  t.equal((await app.inject({ method: 'POST', url: '/@logout', headers: bearer(await login(app)), payload: { all: true } })).statusCode, 204)
  t.equal((await renewal).json().code, 'FST_JWT_SESSION_REVOKED_TOKEN')
})

test('a renewal whose loadUser outlasts the token is refused: EXPIRED', async (t) => {
  const clock = fakeClock(t)
  const app = await buildApp(t, { expiresIn: 60, clockTolerance: 0, loadUser: async (claims) => { clock.tick(61_000); return { sub: claims.sub } } })
  t.equal((await renew(app, await login(app))).json().code, 'FST_JWT_SESSION_EXPIRED_TOKEN')
})

test('2,000 renewals of one session leave one store entry', async (t) => {
  const clock = fakeClock(t)
  const store = memoryStore()
  const app = await buildApp(t, { revocationStore: store })
  const token = await renewChain(app, await login(app), 2000, clock)
  t.equal(decodePayload(token).gen, 2000)
  t.ok(store.size <= 3, `${store.size} entries`)
  t.equal(store.size, 1)
})

test('a login right after a logout of every session, in the same millisecond, works; the older tokens stay refused', async (t) => {
  fakeClock(t)
  const app = await buildApp(t)
  const phone = await login(app)
  const laptop = await login(app)
  t.equal((await app.inject({ method: 'POST', url: '/@logout', headers: bearer(phone), payload: { all: true } })).statusCode, 204)
  const fresh = await login(app)
  t.equal(decodePayload(fresh).iat, decodePayload(phone).iat, 'the same second (the clock is frozen)')
  t.equal((await app.inject({ url: '/me', headers: bearer(fresh) })).statusCode, 200, 'the new login works')
  t.equal((await renew(app, fresh)).statusCode, 200, 'and renews')
  for (const token of [phone, laptop]) t.equal((await app.inject({ url: '/me', headers: bearer(token) })).json().code, 'FST_JWT_SESSION_REVOKED_TOKEN')
  t.equal((await renew(app, laptop)).json().code, 'FST_JWT_SESSION_REVOKED_TOKEN', 'and cannot be renewed')
})

test('a login after the wall clock stepped back by more than a second works at once', async (t) => {
  const app = await buildApp(t, { clockTolerance: 0 })
  await login(app)
  fakeClock(t, Date.now() - 60_000)
  const token = await login(app)
  t.equal(decodePayload(token).auth_time, Math.floor(Date.now() / 1000), 'the login clock followed the wall clock back')
  t.equal((await app.inject({ url: '/me', headers: bearer(token) })).statusCode, 200)
})

test('idleTimeout: an expired token renews until exp + idleTimeout, never past maxSessionAge; it never authenticates', async (t) => {
  const clock = fakeClock(t)
  const app = await buildApp(t, { expiresIn: 60, idleTimeout: '2m', maxSessionAge: 300, clockTolerance: 0 })
  const first = await login(app)
  clock.tick(61_000)
  t.equal((await app.inject({ url: '/me', headers: bearer(first) })).json().code, 'FST_JWT_SESSION_EXPIRED_TOKEN', 'expired for every route')
  const second = await renew(app, first)
  t.equal(second.statusCode, 200, 'but renewable within the idle timeout')
  t.equal((await app.inject({ url: '/me', headers: bearer(second.json().token) })).statusCode, 200)
  clock.tick(60_000 + 120_000 + 1000)
  t.equal((await renew(app, second.json().token)).json().code, 'FST_JWT_SESSION_EXPIRED_TOKEN', 'past exp + idleTimeout')
  let token = await login(app)
  const authTime = decodePayload(token).auth_time
  for (let step = 0; step < 5; step++) {
    clock.tick(50_000)
    token = (await renew(app, token)).json().token
  }
  t.equal(decodePayload(token).exp, authTime + 300, 'the last token ends with the session')
  clock.tick(80_000)
  t.equal((await renew(app, token)).json().code, 'FST_JWT_SESSION_TOO_OLD', 'within the idle timeout, past maxSessionAge')
})

test('replay detection holds for renewals of expired tokens under idleTimeout', async (t) => {
  const clock = fakeClock(t)
  const app = await buildApp(t, { expiresIn: 60, idleTimeout: 600, clockTolerance: 0 })
  const old = await login(app)
  clock.tick(120_000)
  t.equal((await renew(app, old)).statusCode, 200)
  clock.tick(11_000)
  t.equal((await renew(app, old)).json().code, 'FST_JWT_SESSION_REVOKED_TOKEN')
})
