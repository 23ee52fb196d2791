import { test } from 'tap'
import type { FastifyInstance } from 'fastify'
import { memoryStore, redisStore } from '../../lib/index'
import { CLOCK_SKEW } from '../../lib/jwt/clock'
import { bearer, buildApp, decodePayload, fakeClock, forge, login, validClaims } from '../helpers'
import { RedisServer, connected } from '../redis-server'

// Two instances share one store; the process has one clock, so each instance's skew is
// simulated by moving the clock to that instance's reading before it answers.

/** Two apps on one memory store: `ahead` (its clock 3 s ahead of real time) and `behind` (right). */
async function twoInstances (t: Parameters<typeof buildApp>[0]): Promise<{ ahead: FastifyInstance, right: FastifyInstance }> {
  const store = memoryStore()
  return { ahead: await buildApp(t, { revocationStore: store }), right: await buildApp(t, { revocationStore: store }) }
}

const logoutAll = async (app: FastifyInstance, token: string): Promise<number> =>
  (await app.inject({ method: 'POST', url: '/@logout', headers: bearer(token), payload: { all: true } })).statusCode
const me = async (app: FastifyInstance, token: string): Promise<number> => (await app.inject({ url: '/me', headers: bearer(token) })).statusCode

test('a session that logged in on an instance 3 s ahead, 1 s before a logout-all on another, is refused', async (t) => {
  const clock = fakeClock(t)
  const real = Date.now()
  const { ahead, right } = await twoInstances(t)
  const other = await login(right)
  // Real time T - 1 s, on the instance 3 s ahead: its clock reads T + 2 s.
  clock.setSystemTime(real - 1_000 + 3_000)
  const skewed = await login(ahead)
  // Real time T, on the instance whose clock is right.
  clock.setSystemTime(real)
  t.equal(await logoutAll(right, other), 204)
  t.equal(await me(right, skewed), 401, 'the session of the skewed login is refused')
  clock.setSystemTime(real + 3_000)
  t.equal(await me(ahead, skewed), 401, 'on either instance')
  // A login right after the logout-all, on either instance, gets a working token.
  clock.setSystemTime(real)
  const fresh = await login(right)
  t.equal(await me(right, fresh), 200, 'a login right after the logout-all works')
  t.equal(decodePayload(fresh).auth_time, Math.floor(real / 1000), 'its auth_time is the real login second')
  t.ok(decodePayload(fresh).auth_us >= (Math.floor(real / 1000) + 5) * 1_000_000, 'its auth_us lies past the cut-off, seconds later')
  clock.setSystemTime(real + 3_000)
  t.equal(await me(ahead, fresh), 200, 'and is accepted by the other instance')
  const freshAhead = await login(ahead)
  t.equal(await me(ahead, freshAhead), 200, 'a login right after it on the instance ahead works too')
  clock.setSystemTime(real)
  t.equal(await me(right, freshAhead), 200)
})

test('a logout-all, a login bumped past its cut-off, then a second logout-all within the bound: the login is refused', async (t) => {
  const clock = fakeClock(t)
  const real = Date.now()
  const { ahead, right } = await twoInstances(t)
  const first = await login(right)
  // The first logout-all is answered by the instance 3 s ahead.
  clock.setSystemTime(real + 3_000)
  t.equal(await logoutAll(ahead, first), 204)
  // Real time T + 0.2 s: a login on the instance whose clock is right.
  clock.setSystemTime(real + 200)
  const bumped = await login(right)
  t.equal(await me(right, bumped), 200, 'the login right after the first logout-all works')
  // Real time T + 0.5 s: the second logout-all, on the instance whose clock is right, by
  // another session; then by the host's own call.
  clock.setSystemTime(real + 500)
  const asking = await login(right)
  t.equal(await logoutAll(right, asking), 204)
  t.equal(await me(right, bumped), 401, 'the bumped login is refused by the second logout-all')
  t.equal(await me(right, asking), 401, 'and so is the session that asked')
  const again = await login(right)
  t.equal(await me(right, again), 200)
  await right.jwtAuth.revokeSubject('u-alice')
  t.equal(await me(right, again), 401, 'revokeSubject refuses a login bumped past the cut-off before it')
  const signed = right.jwtAuth.sign({ sub: 'u-alice' })
  t.equal(await me(right, signed), 200, 'jwtAuth.sign right after a logout-all gives a working token')
})

test('the bound holds for a clock behind as for one ahead: a logout-all there covers a login stamped by a clock ahead of it', async (t) => {
  const clock = fakeClock(t)
  const real = Date.now()
  const { ahead, right } = await twoInstances(t)
  // The login on the instance whose clock is right, the logout-all 0.1 s later on one whose
  // clock lags by 4 s: the login's stamp lies ahead of the lagging clock, not of its cut-off.
  const session = await login(right)
  const lag = CLOCK_SKEW / 1000 - 1_000
  clock.setSystemTime(real + 100 - lag)
  t.equal(await logoutAll(ahead, await login(ahead)), 204)
  clock.setSystemTime(real + 200)
  t.equal(await me(right, session), 401)
})

test('a login fails closed when the store cannot tell the cut-off; jwtAuth.sign signs, with what this instance knows', async (t) => {
  const inner = memoryStore()
  let down = false
  const subject = (sub: string): number | undefined => { if (down) throw new Error('down'); return inner.subject(sub) }
  const app = await buildApp(t, { revocationStore: { session: (sid) => inner.session(sid), subject, renew: inner.renew, end: inner.end, endSubject: inner.endSubject } })
  await app.jwtAuth.revokeSubject('u-alice')
  down = true
  const signed = app.jwtAuth.sign({ sub: 'u-alice' })
  t.ok(decodePayload(signed).auth_us > (inner.subject('u-alice') as number), 'stamped past the cut-off this instance recorded')
  down = false
  t.equal(await me(app, signed), 200)
  down = true
  const response = await app.inject({ method: 'POST', url: '/@login', payload: { login: 'alice', password: 'wonderland' } })
  t.equal(response.statusCode, 503, 'and so does a login')
  t.equal(response.json().code, 'FST_JWT_SESSION_STORE_UNAVAILABLE')
})

test('with a store that answers later (Redis, lookup mode), jwtAuth.sign right after revokeSubject gives a working token', async (t) => {
  const server = await RedisServer.start(t)
  const client = server.client()
  await connected(client)
  const store = redisStore({ client, mode: 'lookup' })
  t.teardown(async () => await store.close())
  const app = await buildApp(t, { revocationStore: store })
  const clock = fakeClock(t)
  const before = await login(app)
  await app.jwtAuth.revokeSubject('u-alice')
  await app.jwtAuth.revokeSubject('u-bob')
  t.equal(await me(app, before), 401)
  const signed = app.jwtAuth.sign({ sub: 'u-alice' })
  t.equal(await me(app, signed), 200, 'the cut-off this instance recorded is known without waiting for the store')
  t.equal(await me(app, await login(app)), 200, 'a login waits for the store')
  // Once the clock has passed them, the cut-offs this instance remembers are forgotten.
  clock.tick(CLOCK_SKEW / 1000 + 1_000)
  await app.jwtAuth.revokeSubject('u-carol')
  t.equal(await me(app, app.jwtAuth.sign({ sub: 'u-alice' })), 200)
})

test('a login is stamped past a cut-off no clock within the bound could record only up to the bound: it stays refused', async (t) => {
  fakeClock(t)
  const store = memoryStore()
  const app = await buildApp(t, { revocationStore: store })
  const now = Date.now() * 1000
  store.endSubject('u-alice', now + 2 * CLOCK_SKEW + 1_000_000, Math.floor(Date.now() / 1000) + 600)
  const token = await login(app)
  t.ok(decodePayload(token).auth_us < now + 2 * CLOCK_SKEW, 'not stamped past it')
  t.equal(await me(app, token), 401)
  // A token stamped up to the bound past its auth_time second is valid; one further is not.
  const second = Math.floor(Date.now() / 1000)
  t.equal(await me(app, forge({ alg: 'HS256', typ: 'JWT' }, validClaims({ sub: 'u-bob', auth_us: (second + 1) * 1_000_000 + 2 * CLOCK_SKEW - 1 }))), 200)
  t.equal(await me(app, forge({ alg: 'HS256', typ: 'JWT' }, validClaims({ sub: 'u-bob', auth_us: (second + 1) * 1_000_000 + 2 * CLOCK_SKEW }))), 401)
})
