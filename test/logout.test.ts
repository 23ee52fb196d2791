import { test } from 'tap'
import { bearer, buildApp, decodePayload, fakeClock, login } from './helpers'

test('logout answers 204 with no body, and the token is refused afterwards', async (t) => {
  const app = await buildApp(t)
  const token = await login(app)
  const response = await app.inject({ method: 'POST', url: '/@logout', headers: bearer(token) })
  t.equal(response.statusCode, 204)
  t.equal(response.body, '')
  const after = await app.inject({ url: '/me', headers: bearer(token) })
  t.equal(after.statusCode, 401)
  t.equal(after.json().code, 'FST_JWT_SESSION_REVOKED_TOKEN')
  t.equal(after.headers['www-authenticate'], 'Bearer error="invalid_token", error_description="The token has been revoked"')
  t.equal((await app.inject({ method: 'POST', url: '/@login-renew', headers: bearer(token) })).json().code, 'FST_JWT_SESSION_REVOKED_TOKEN')
  t.equal((await app.inject({ method: 'POST', url: '/@logout', headers: bearer(token) })).statusCode, 401, 'a second logout is a 401')
})

test('a logged-out token is refused under every spelling of its signature', async (t) => {
  const app = await buildApp(t)
  const token = await login(app)
  const [header, payload, signature] = token.split('.') as [string, string, string]
  // 32 bytes in 43 base64url characters leave 2 unused bits in the last one: 4 spellings decode alike.
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'
  const last = alphabet.indexOf(signature.slice(-1))
  const spellings = [0, 1, 2, 3].map((low) => `${header}.${payload}.${signature.slice(0, -1)}${alphabet[(last & ~3) | low]}`)
  const accepted = []
  for (const spelling of spellings) accepted.push((await app.inject({ url: '/me', headers: bearer(spelling) })).statusCode)
  t.same(accepted, [200, 200, 200, 200], 'every spelling verifies: revocation cannot key on the token string')
  t.equal((await app.inject({ method: 'POST', url: '/@logout', headers: bearer(token) })).statusCode, 204)
  for (const spelling of spellings) {
    const response = await app.inject({ url: '/me', headers: bearer(spelling) })
    t.equal(response.statusCode, 401, spelling.slice(-3))
    t.not(response.statusCode, 200)
  }
})

test('logout racing a renewal of the same token never leaves a live token behind a 204', async (t) => {
  for (let round = 0; round < 20; round++) {
    const app = await buildApp(t)
    const token = await login(app)
    const [renewed, loggedOut] = await Promise.all([
      app.inject({ method: 'POST', url: '/@login-renew', headers: bearer(token) }),
      app.inject({ method: 'POST', url: '/@logout', headers: bearer(token) })
    ])
    if (loggedOut.statusCode === 204 && renewed.statusCode === 200) {
      // Both passed authentication: the logout ends the session, the renewed token with it.
      t.equal((await app.inject({ url: '/me', headers: bearer(renewed.json().token) })).statusCode, 401)
    } else {
      // One of them came second and found the token already retired.
      t.ok(loggedOut.statusCode === 401 || renewed.statusCode === 401)
    }
  }
})

test('logout with { all: true } revokes every token of that user issued until now, and only those', async (t) => {
  const clock = fakeClock(t)
  const app = await buildApp(t)
  const phone = await login(app, 'alice')
  const laptop = await login(app, 'alice')
  const bob = await login(app, 'bob')
  const response = await app.inject({ method: 'POST', url: '/@logout', headers: bearer(phone), payload: { all: true } })
  t.equal(response.statusCode, 204)
  t.equal((await app.inject({ url: '/me', headers: bearer(laptop) })).json().code, 'FST_JWT_SESSION_REVOKED_TOKEN', 'her other devices')
  t.equal((await app.inject({ url: '/me', headers: bearer(phone) })).statusCode, 401)
  t.equal((await app.inject({ url: '/me', headers: bearer(bob) })).statusCode, 200, 'other users are untouched')
  clock.tick(1000)
  const fresh = await login(app, 'alice')
  t.equal((await app.inject({ url: '/me', headers: bearer(fresh) })).statusCode, 200, 'a login after the logout works')
})

test('logout with { all: false } or an empty object revokes only the session', async (t) => {
  const app = await buildApp(t)
  for (const payload of [{ all: false }, {}]) {
    const one = await login(app)
    const other = await login(app)
    t.equal((await app.inject({ method: 'POST', url: '/@logout', headers: bearer(one), payload })).statusCode, 204)
    t.equal((await app.inject({ url: '/me', headers: bearer(other) })).statusCode, 200)
  }
})

test('logout refuses a malformed body with 400 and keeps the token', async (t) => {
  const app = await buildApp(t)
  const token = await login(app)
  for (const payload of ['{"all":"yes"}', '{"all":true,"extra":1}', '[]', '{"all":']) {
    const response = await app.inject({ method: 'POST', url: '/@logout', headers: { ...bearer(token), 'content-type': 'application/json' }, payload })
    t.equal(response.statusCode, 400, payload)
  }
  t.match((await app.inject({ method: 'POST', url: '/@logout', headers: bearer(token), payload: { all: 1 } })).json().message, 'body/all must be boolean')
  t.equal((await app.inject({ url: '/me', headers: bearer(token) })).statusCode, 200)
})

test('logout without a token is a 401, whether or not there is a store', async (t) => {
  for (const revocationStore of [undefined, {}]) {
    const app = await buildApp(t, revocationStore === undefined ? { revocationStore } : {})
    const response = await app.inject({ method: 'POST', url: '/@logout' })
    t.equal(response.statusCode, 401)
    t.equal(response.json().code, 'FST_JWT_SESSION_NO_TOKEN')
  }
})

test('logout without a store answers 501, and the token stays valid', async (t) => {
  const app = await buildApp(t, { revocationStore: undefined })
  const token = await login(app)
  const response = await app.inject({ method: 'POST', url: '/@logout', headers: bearer(token) })
  t.equal(response.statusCode, 501)
  t.same(response.json(), { statusCode: 501, code: 'FST_JWT_SESSION_LOGOUT_UNSUPPORTED', error: 'Not Implemented', message: 'Logout needs a revocation store, and none is configured' })
  t.equal((await app.inject({ url: '/me', headers: bearer(token) })).statusCode, 200)
  await t.rejects(app.jwtAuth.revoke(decodePayload(token) as never), { code: 'FST_JWT_SESSION_LOGOUT_UNSUPPORTED' })
  await t.rejects(app.jwtAuth.revokeSubject('u-alice'), { code: 'FST_JWT_SESSION_LOGOUT_UNSUPPORTED' })
})
