import { test } from 'tap'
import { bearer, buildApp, fakeClock, login, renew } from '../helpers'

// A logout answered 204 stays a logout: the edges where it did not, each found by a review.

test('logging out everywhere ends the caller\'s own session, even after the clock stepped back', async (t) => {
  const clock = fakeClock(t)
  const app = await buildApp(t)
  const token = await login(app)
  // The wall clock steps back 3 s (within clockTolerance): the login now lies in the future.
  clock.setSystemTime(Date.now() - 3_000)
  t.equal((await app.inject({ method: 'POST', url: '/@logout', headers: bearer(token), payload: { all: true } })).statusCode, 204)
  t.equal((await app.inject({ url: '/me', headers: bearer(token) })).statusCode, 401, 'the token that asked is refused')
  t.equal((await renew(app, token)).statusCode, 401, 'and cannot be renewed')
})

test('a token expired less than idleTimeout ago can log out, and its session is not renewable after', async (t) => {
  const clock = fakeClock(t)
  const app = await buildApp(t, { expiresIn: 60, idleTimeout: '1h' })
  const token = await login(app)
  clock.tick(120_000)
  t.equal((await app.inject({ url: '/me', headers: bearer(token) })).statusCode, 401, 'expired for ordinary routes')
  t.equal((await app.inject({ method: 'POST', url: '/@logout', headers: bearer(token) })).statusCode, 204, 'but it ends its session')
  const renewal = await renew(app, token)
  t.equal(renewal.statusCode, 401, 'the session is over: no renewal')
  t.equal(renewal.json().code, 'FST_JWT_SESSION_REVOKED_TOKEN')
  clock.tick(3_600_000)
  t.equal((await app.inject({ method: 'POST', url: '/@logout', headers: bearer(token) })).json().code, 'FST_JWT_SESSION_EXPIRED_TOKEN', 'past idleTimeout a logout is refused as expired')
})

test('a loginName that throws is a plain 500: the host\'s error text never reaches the client', async (t) => {
  const app = await buildApp(t, { loginThrottle: { loginName: (credentials) => (credentials as unknown as { email: string }).email.toLowerCase() } })
  const response = await app.inject({ method: 'POST', url: '/@login', payload: { login: 'alice', password: 'wonderland' } })
  t.equal(response.statusCode, 500)
  t.notMatch(response.body, /toLowerCase|undefined/)
})

test('jwtAuth.revoke refuses claims it could not record, rather than forget them; revokeSubject an empty sub', async (t) => {
  const app = await buildApp(t)
  await t.rejects(app.jwtAuth.revoke({ sid: 'a-session' } as never), /needs the claims of a verified token/)
  await t.rejects(app.jwtAuth.revoke(null as never), /needs the claims of a verified token/)
  await t.rejects(app.jwtAuth.revokeSubject(''), /needs a non-empty sub/)
  const token = await login(app)
  await app.jwtAuth.revoke(await app.jwtAuth.verify(token))
  await app.jwtAuth.revoke(await app.jwtAuth.verify(await login(app, 'bob')))
  t.equal((await app.inject({ url: '/me', headers: bearer(token) })).statusCode, 401, 'a revocation made with verified claims holds after later ones')
})
