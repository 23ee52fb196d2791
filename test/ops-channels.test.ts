import { test } from 'tap'
import diagnostics from 'node:diagnostics_channel'
import { memoryStore, redisStore, type RevocationStore } from '../lib/index'
import { SECRET, bearer, buildApp, fakeClock, login, renew } from './helpers'
import { RedisServer } from './redis-server'

const NAMES = ['login', 'login-failed', 'renew', 'reuse', 'logout', 'refused', 'store', 'store-call']

/** Every message of every channel, in order, while the test runs. */
function listen (t: { teardown (fn: () => unknown): void }): Array<[string, Record<string, unknown>]> {
  const heard: Array<[string, Record<string, unknown>]> = []
  for (const name of NAMES) {
    const listener = (message: unknown): void => { heard.push([name, message as Record<string, unknown>]) }
    diagnostics.subscribe(`fastify-jwt-session:${name}`, listener)
    t.teardown(() => diagnostics.unsubscribe(`fastify-jwt-session:${name}`, listener))
  }
  return heard
}

/** The messages of one channel. */
const of = (heard: Array<[string, Record<string, unknown>]>, name: string): Array<Record<string, unknown>> =>
  heard.filter(([channel]) => channel === name).map(([, message]) => message)

test('every path publishes what an operator counts, and never a token, a password or the secret', async (t) => {
  const clock = fakeClock(t)
  const heard = listen(t)
  const app = await buildApp(t, { expiresIn: '10m', renewGrace: 0, loginThrottle: { perLogin: { max: 2 } } })
  const token = await login(app)
  const sid = JSON.parse(Buffer.from(token.split('.')[1] as string, 'base64url').toString()).sid
  t.match(of(heard, 'login'), [{ sub: 'u-alice', sid }])

  t.equal((await app.inject({ method: 'POST', url: '/@login', payload: { login: 'bob', password: 'wrong-password-1' } })).statusCode, 401)
  t.equal((await app.inject({ method: 'POST', url: '/@login', payload: { login: 'bob', password: 'wrong-password-2' } })).statusCode, 401)
  t.equal((await app.inject({ method: 'POST', url: '/@login', payload: { login: 'bob', password: 'builder' } })).statusCode, 429)
  t.same(of(heard, 'login-failed'), [{ reason: 'credentials' }, { reason: 'credentials' }, { reason: 'throttled' }])

  clock.tick(1_001)
  const renewed = await renew(app, token)
  t.equal(renewed.statusCode, 200)
  const fresh = renewed.json().token as string
  t.match(of(heard, 'renew'), [{ sub: 'u-alice', sid, jti: String, previousJti: String }])
  t.equal((await renew(app, token)).statusCode, 401, 'a replay')
  t.match(of(heard, 'reuse'), [{ sub: 'u-alice', sid, jti: String }])
  t.same(of(heard, 'refused'), [], 'the renewal route refuses a replay itself: the refused channel is authenticate\'s')

  // authenticate's refusals: no token, a bad one, a revoked one, a missing role.
  heard.length = 0
  const bob = await login(app, 'alice')
  t.equal((await app.inject({ url: '/me' })).statusCode, 401)
  t.equal((await app.inject({ url: '/me', headers: bearer(`${fresh}x`) })).statusCode, 401)
  t.equal((await app.inject({ url: '/me', headers: bearer(fresh) })).statusCode, 401, 'the session ended with the replay')
  t.equal((await app.inject({ url: '/admin', headers: bearer(bob) })).statusCode, 200)
  const refused = of(heard, 'refused')
  t.equal(refused.length, 3)
  for (const message of refused) t.same(Object.keys(message).sort(), ['code', 'statusCode'])
  t.ok(refused.every((message) => message.statusCode === 401))

  heard.length = 0
  t.equal((await app.inject({ method: 'POST', url: '/@logout', headers: bearer(bob) })).statusCode < 300, true)
  const carol = await login(app, 'alice')
  t.equal((await app.inject({ method: 'POST', url: '/@logout', headers: bearer(carol), payload: { all: true } })).statusCode < 300, true)
  t.match(of(heard, 'logout'), [{ sub: 'u-alice', kind: 'one' }, { sub: 'u-alice', kind: 'all' }])

  const secrets = [SECRET, 'wonderland', 'builder', 'wrong-password-1', 'wrong-password-2', token, fresh, bob, carol, 'alice', 'bob']
  const text = JSON.stringify(heard)
  for (const secret of secrets) t.notOk(text.includes(`"${secret}"`) || text.includes(secret.length > 8 ? secret : '\u0000'), 'no secret, token, password or login name in any message')
})

test('403 from requireRoles and 503 from a store outage are refused with their codes; store calls are timed', async (t) => {
  const heard = listen(t)
  let down = false
  let slowDown = false
  let endDown = false
  const inner = memoryStore()
  const store: RevocationStore = {
    session: (sid) => {
      if (down) throw new Error('the store is away')
      // An asynchronous store whose answer fails: the hook's refusal comes later, from a promise.
      return slowDown ? Promise.resolve(inner.session(sid)) : inner.session(sid)
    },
    subject: (sub) => down || slowDown ? Promise.reject(new Error('the store is away')) : Promise.resolve(inner.subject(sub)),
    renew: (...args) => inner.renew(...args),
    end: (...args) => { if (endDown) throw new Error('the store is away'); inner.end(...args) },
    endSubject: (...args) => inner.endSubject(...args)
  }
  const app = await buildApp(t, { revocationStore: store }, (app) => {
    app.get('/optional', { onRequest: app.authenticateOptional }, async (request) => ({ user: request.user?.sub ?? null }))
  })
  const bob = await login(app, 'bob')
  t.equal((await app.inject({ url: '/admin', headers: bearer(bob) })).statusCode, 403)
  down = true
  t.equal((await app.inject({ url: '/me', headers: bearer(bob) })).statusCode, 503)
  t.equal((await app.inject({ url: '/optional', headers: bearer(bob) })).statusCode, 503, 'authenticateOptional fails an outage too')
  down = false
  slowDown = true
  t.equal((await app.inject({ url: '/me', headers: bearer(bob) })).statusCode, 503, 'an asynchronous store that fails')
  slowDown = false
  const alice = await login(app)
  endDown = true
  t.equal((await app.inject({ method: 'POST', url: '/@logout', headers: bearer(alice) })).statusCode, 503, 'the session is checked, its end fails')
  t.match(of(heard, 'refused'), [{ code: 'FST_JWT_SESSION_FORBIDDEN', statusCode: 403 }, { statusCode: 503 }, { statusCode: 503 }, { code: 'FST_JWT_SESSION_STORE_UNAVAILABLE', statusCode: 503 }])
  const calls = of(heard, 'store-call')
  t.ok(calls.some((call) => call.ok === true) && calls.some((call) => call.ok === false), 'store calls that answered and that failed')
  t.ok(calls.every((call) => typeof call.durationMs === 'number'))
  t.same(app.jwtAuth.health().store, { state: 'unknown', since: 0 }, 'a custom store without health()')
  t.equal(app.jwtAuth.health().ready, true, 'an unknown store does not make the app unready')
})

test('with nobody subscribed nothing is published', async (t) => {
  const app = await buildApp(t)
  const token = await login(app)
  t.equal((await app.inject({ url: '/me', headers: bearer(token) })).statusCode, 200)
  t.equal((await app.inject({ url: '/me' })).statusCode, 401)
  t.equal(diagnostics.channel('fastify-jwt-session:refused').hasSubscribers, false)
})

test('a malformed login body publishes login-failed { reason: body }, with nothing of the body in it', async (t) => {
  const heard = listen(t)
  const app = await buildApp(t)
  const plone = await buildApp(t, { compat: 'plone' })
  const post = async (target: typeof app, payload: string, type = 'application/json'): Promise<number> =>
    (await target.inject({ method: 'POST', url: '/@login', headers: { 'content-type': type }, payload })).statusCode
  // A password typed into the login field, the password missing: refused by the schema.
  t.equal(await post(app, JSON.stringify({ login: 'typed-my-secret-here' })), 400)
  // The right fields, one of the wrong type (the strict validator coerces nothing).
  t.equal(await post(app, JSON.stringify({ login: 'alice', password: 12345678 })), 400)
  // Not JSON, an empty body, another media type: refused before the schema.
  t.equal(await post(app, '{"login":"alice","password":"wonderl'), 400)
  t.equal(await post(app, ''), 400)
  t.equal(await post(app, 'login=alice&password=wonderland', 'text/plain'), 415)
  // Plone's error handler answers its own body: the event is published all the same.
  t.equal(await post(plone, JSON.stringify({ password: 'typed-my-secret-here' })), 400)
  t.same(of(heard, 'login-failed'), Array.from({ length: 6 }, () => ({ reason: 'body' })))
  t.same(of(heard, 'refused'), [], 'no authenticate refusal')
  const text = JSON.stringify(heard)
  for (const secret of ['typed-my-secret-here', 'alice', 'wonderl', '12345678']) t.notOk(text.includes(secret), 'nothing of the body')

  // A well-formed body with the wrong password is still `credentials`, and a good login publishes no failure.
  heard.length = 0
  t.equal(await post(app, JSON.stringify({ login: 'alice', password: 'not-it' })), 401)
  t.equal(await post(app, JSON.stringify({ login: 'alice', password: 'wonderland' })), 200)
  t.same(of(heard, 'login-failed'), [{ reason: 'credentials' }])
})

test('authenticate\'s reads of a Redis store in lookup mode are timed on store-call, one call per request', async (t) => {
  const server = await RedisServer.start(t)
  const store = redisStore({ client: server.client(), mode: 'lookup' })
  t.teardown(async () => await store.close())
  const app = await buildApp(t, { revocationStore: store, storeTimeout: 500 })
  await store.ready()
  const token = await login(app)
  const heard = listen(t)
  t.equal((await app.inject({ url: '/me', headers: bearer(token) })).statusCode, 200)
  t.equal((await app.inject({ url: '/me', headers: bearer(token) })).statusCode, 200)
  const answered = of(heard, 'store-call')
  t.equal(answered.length, 2, 'the session and the user, read together: one store call a request')
  for (const call of answered) {
    t.same(Object.keys(call).sort(), ['durationMs', 'ok'])
    t.equal(call.ok, true)
    t.ok(typeof call.durationMs === 'number' && call.durationMs >= 0)
  }

  heard.length = 0
  await server.stop('SIGKILL')
  t.equal((await app.inject({ url: '/me', headers: bearer(token) })).statusCode, 503)
  t.match(of(heard, 'store-call'), [{ ok: false, durationMs: Number }])
  t.equal(of(heard, 'store-call').length, 1)
  t.match(of(heard, 'refused'), [{ statusCode: 503 }])
})
