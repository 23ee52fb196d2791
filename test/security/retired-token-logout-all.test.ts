import { test } from 'tap'
import { bearer, buildApp, fakeClock, login, renew } from '../helpers'

test('a token retired past the grace cannot log out every session of the user', async (t) => {
  const clock = fakeClock(t)
  const app = await buildApp(t, { renewGrace: 10 })
  const retired = await login(app)
  const current = (await renew(app, retired)).json().token as string
  const otherDevice = await login(app)
  clock.tick(11_000)
  const response = await app.inject({ method: 'POST', url: '/@logout', headers: bearer(retired), payload: { all: true } })
  t.equal(response.statusCode, 401)
  t.equal(String(response.headers['content-type']).startsWith('application/json') ? response.json().code : undefined, 'FST_JWT_SESSION_REVOKED_TOKEN')
  t.equal((await app.inject({ url: '/me', headers: bearer(current) })).statusCode, 200, 'the session\'s current token still works')
  t.equal((await app.inject({ url: '/me', headers: bearer(otherDevice) })).statusCode, 200, 'and so does the user\'s other session')
  // Ending its own session stays allowed: the thief's copy must not keep the session renewable.
  t.equal((await app.inject({ method: 'POST', url: '/@logout', headers: bearer(retired) })).statusCode, 204)
  t.equal((await app.inject({ url: '/me', headers: bearer(current) })).statusCode, 401, 'its session has ended')
  t.equal((await app.inject({ url: '/me', headers: bearer(otherDevice) })).statusCode, 200, 'the other session goes on')
})

test('a token retired within the grace, or two generations back, is judged as on any route', async (t) => {
  const clock = fakeClock(t)
  const app = await buildApp(t, { renewGrace: 10 })
  const first = await login(app)
  const second = (await renew(app, first)).json().token as string
  // A session's newest token is renewed at most once a second.
  clock.tick(1_001)
  t.equal((await renew(app, second)).statusCode, 200)
  const response = await app.inject({ method: 'POST', url: '/@logout', headers: bearer(first), payload: { all: true } })
  t.equal(response.statusCode, 401, 'two generations back: refused at once')
  t.equal(String(response.headers['content-type']).startsWith('application/json') ? response.json().code : undefined, 'FST_JWT_SESSION_REVOKED_TOKEN')
  const otherDevice = await login(app)
  t.equal((await app.inject({ method: 'POST', url: '/@logout', headers: bearer(second), payload: { all: true } })).statusCode, 204, 'within the grace: allowed')
  t.equal((await app.inject({ url: '/me', headers: bearer(otherDevice) })).statusCode, 401)
})
