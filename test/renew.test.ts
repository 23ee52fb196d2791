import { test } from 'tap'
import { memoryStore, type RevocationStore } from '../lib/index'
import { bearer, buildApp, decodePayload, fakeClock, login, renew } from './helpers'

test('renew answers a token of the next generation of the same session; with no grace the old one is retired at once', async (t) => {
  const clock = fakeClock(t)
  const app = await buildApp(t, { expiresIn: '10m', renewGrace: 0 })
  const old = await login(app)
  clock.tick(120_000)
  const response = await renew(app, old)
  t.equal(response.statusCode, 200)
  const fresh = response.json().token
  const before = decodePayload(old)
  const after = decodePayload(fresh)
  t.not(after.jti, before.jti, 'a new jti')
  t.equal(after.exp, before.exp + 120, 'a new exp')
  t.equal(after.exp - after.iat, 600, 'exp - iat equals expiresIn')
  t.equal(after.sid, before.sid, 'the same session')
  t.equal(after.auth_time, before.auth_time, 'the same login time')
  t.equal(after.auth_us, before.auth_us, 'the same login time, in microseconds')
  t.equal(before.gen, 0, 'a login starts at generation 0')
  t.equal(after.gen, 1, 'a renewal is the next generation')
  t.equal(after.fullname, 'Alice Liddell', 'extra claims carry over without loadUser')
  t.same(after.roles, before.roles)
  t.equal((await app.inject({ url: '/me', headers: bearer(fresh) })).statusCode, 200)
  const reused = await app.inject({ url: '/me', headers: bearer(old) })
  t.equal(reused.statusCode, 401)
  t.equal(reused.json().code, 'FST_JWT_SESSION_REVOKED_TOKEN')
  const again = await renew(app, old)
  t.equal(again.statusCode, 401, 'renewing the retired token is a replay')
  t.equal(again.json().code, 'FST_JWT_SESSION_REVOKED_TOKEN')
  t.equal((await app.inject({ url: '/me', headers: bearer(fresh) })).statusCode, 401, 'the replay ended the session, the newest token too')
})

test('ten concurrent renewals of one token all succeed, with tokens of one session and one generation', async (t) => {
  const app = await buildApp(t)
  const token = await login(app)
  const responses = await Promise.all(Array.from({ length: 10 }, async () => await renew(app, token)))
  t.same(responses.map((r) => r.statusCode), Array(10).fill(200))
  const claims = responses.map((r) => decodePayload(r.json().token))
  t.same(new Set(claims.map((c) => c.sid)), new Set([decodePayload(token).sid]), 'one session')
  t.same(new Set(claims.map((c) => c.gen)), new Set([1]), 'one generation')
  t.equal(new Set(claims.map((c) => c.jti)).size, 10, 'ten tokens')
  for (const response of responses) t.equal((await app.inject({ url: '/me', headers: bearer(response.json().token) })).statusCode, 200)
})

test('ten concurrent renewals through an asynchronous store all succeed', async (t) => {
  const inner = memoryStore()
  const later = async <T>(value: () => T): Promise<T> => await new Promise((resolve) => setTimeout(() => resolve(value()), 5))
  const store: RevocationStore = {
    session: async (sid) => await later(() => inner.session(sid)),
    subject: async (sub) => await later(() => inner.subject(sub)),
    renew: async (...args) => await later(() => inner.renew(...args)),
    end: async (...args) => await later(() => inner.end(...args)),
    endSubject: async (...args) => await later(() => inner.endSubject(...args))
  }
  const app = await buildApp(t, { revocationStore: store })
  const token = await login(app)
  const responses = await Promise.all(Array.from({ length: 10 }, async () => await renew(app, token)))
  t.same(responses.map((r) => r.statusCode), Array(10).fill(200))
  t.same(new Set(responses.map((r) => decodePayload(r.json().token).gen)), new Set([1]))
})

test('renewals never reach past auth_time + maxSessionAge', async (t) => {
  const clock = fakeClock(t)
  const app = await buildApp(t, { expiresIn: '1h', maxSessionAge: '90m', clockTolerance: 0 })
  const first = await login(app)
  const authTime = decodePayload(first).auth_time
  t.equal(decodePayload(first).exp, authTime + 3600)
  clock.tick(45 * 60_000)
  const second = (await renew(app, first)).json().token
  t.equal(decodePayload(second).exp, authTime + 5400, 'capped at the session limit, not iat + expiresIn')
  t.equal(decodePayload(second).auth_time, authTime)
  clock.tick(44 * 60_000)
  const third = (await renew(app, second)).json().token
  t.equal(decodePayload(third).exp, authTime + 5400, 'the last minute of the session')
  clock.tick(61_000)
  const late = await renew(app, third)
  t.equal(late.statusCode, 401)
  t.equal(late.json().code, 'FST_JWT_SESSION_EXPIRED_TOKEN', 'the session is over: log in again')
})

test('a renewal past maxSessionAge within the clock tolerance answers TOO_OLD, not a new token', async (t) => {
  const clock = fakeClock(t)
  const app = await buildApp(t, { expiresIn: '1h', maxSessionAge: '1h', clockTolerance: 30 })
  const token = await login(app)
  clock.tick(3600_000 + 10_000)
  t.equal((await app.inject({ url: '/me', headers: bearer(token) })).statusCode, 200, 'still valid within the tolerance')
  const response = await renew(app, token)
  t.equal(response.statusCode, 401)
  t.equal(response.json().code, 'FST_JWT_SESSION_TOO_OLD')
  t.equal(response.headers['www-authenticate'], 'Bearer error="invalid_token", error_description="The session is too old to be renewed"')
})

test('with maxSessionAge false a session renews without limit', async (t) => {
  const clock = fakeClock(t)
  const app = await buildApp(t, { expiresIn: '1h', maxSessionAge: false })
  let token = await login(app)
  const authTime = decodePayload(token).auth_time
  for (let day = 0; day < 30; day++) {
    clock.tick(50 * 60_000)
    const response = await renew(app, token)
    t.equal(response.statusCode, 200)
    token = response.json().token
  }
  t.equal(decodePayload(token).auth_time, authTime)
  t.equal(decodePayload(token).exp - decodePayload(token).iat, 3600)
})

test('an expired token cannot be renewed', async (t) => {
  const clock = fakeClock(t)
  const app = await buildApp(t, { expiresIn: 60, clockTolerance: 0 })
  const token = await login(app)
  clock.tick(61_000)
  t.equal((await renew(app, token)).json().code, 'FST_JWT_SESSION_EXPIRED_TOKEN')
})

test('renew refuses a missing or invalid token', async (t) => {
  const app = await buildApp(t)
  const none = await app.inject({ method: 'POST', url: '/@login-renew' })
  t.equal(none.statusCode, 401)
  t.equal(none.json().code, 'FST_JWT_SESSION_NO_TOKEN')
  t.equal((await renew(app, 'a.b.c')).json().code, 'FST_JWT_SESSION_INVALID_TOKEN')
  t.equal((await renew(app, `${'a'.repeat(9000)}.b.c`)).json().code, 'FST_JWT_SESSION_INVALID_TOKEN', 'an over-long token is refused unread')
})

test('loadUser refreshes roles and claims on renew', async (t) => {
  const seen: string[] = []
  const app = await buildApp(t, {
    loadUser: async (claims) => {
      seen.push(claims.sub)
      return { sub: claims.sub, roles: ['user', 'auditor'], claims: { fullname: 'Alice L.' } }
    }
  })
  const token = await login(app)
  const fresh = decodePayload((await renew(app, token)).json().token)
  t.same(seen, ['u-alice'])
  t.same(fresh.roles, ['user', 'auditor'])
  t.equal(fresh.fullname, 'Alice L.')
})

test('loadUser answering null ends the session: 401, and the old token stops working', async (t) => {
  const app = await buildApp(t, { loadUser: async () => null })
  const token = await login(app)
  const response = await renew(app, token)
  t.equal(response.statusCode, 401)
  t.equal(response.json().code, 'FST_JWT_SESSION_REVOKED_TOKEN')
  t.equal((await app.inject({ url: '/me', headers: bearer(token) })).json().code, 'FST_JWT_SESSION_REVOKED_TOKEN')
})

test('loadUser answering null without a store still refuses the renewal', async (t) => {
  const app = await buildApp(t, { loadUser: async () => null, revocationStore: undefined })
  const response = await renew(app, await login(app))
  t.equal(response.json().code, 'FST_JWT_SESSION_REVOKED_TOKEN')
})

test('a loadUser that throws, or answers a malformed user, gives a plain 500 and keeps the old token', async (t) => {
  for (const loadUser of [async () => { throw new Error('db down at 10.0.0.7') }, async () => ({ sub: 'x', claims: { sid: 'mine' } })]) {
    const app = await buildApp(t, { loadUser })
    const token = await login(app)
    const response = await renew(app, token)
    t.equal(response.statusCode, 500)
    t.same(response.json(), { statusCode: 500, error: 'Internal Server Error', message: 'Internal Server Error' })
    t.equal((await app.inject({ url: '/me', headers: bearer(token) })).statusCode, 200, 'the old token is not retired')
  }
})

test('without a store renew still works, but cannot retire the old token', async (t) => {
  const app = await buildApp(t, { revocationStore: undefined })
  const token = await login(app)
  const response = await renew(app, token)
  t.equal(response.statusCode, 200)
  t.equal((await app.inject({ url: '/me', headers: bearer(token) })).statusCode, 200, 'documented: the old token lives until it expires')
})
