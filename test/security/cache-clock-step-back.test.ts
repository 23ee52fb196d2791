import { test } from 'tap'
import { bearer, buildApp, fakeClock, forge, login, validClaims } from '../helpers'

/* Point 8: a cache hit skipped the future-`iat` check after the clock stepped back. */

test('a cached token whose iat is in the future after the clock steps back is refused, as a fresh check refuses it', async (t) => {
  const clock = fakeClock(t)
  const app = await buildApp(t, { clockTolerance: 5 })
  const token = await login(app)
  // Seen twice, the token is in the verified-token cache.
  for (let i = 0; i < 3; i++) t.equal((await app.inject({ url: '/me', headers: bearer(token) })).statusCode, 200)
  clock.setSystemTime(Date.now() - 5_000)
  t.equal((await app.inject({ url: '/me', headers: bearer(token) })).statusCode, 200, 'within clockTolerance')
  clock.setSystemTime(Date.now() - 60_000)
  const stepped = await app.inject({ url: '/me', headers: bearer(token) })
  t.equal(stepped.statusCode, 401)
  t.equal(stepped.json().code, 'FST_JWT_SESSION_INVALID_TOKEN')
  const uncached = await buildApp(t, { clockTolerance: 5, cacheSize: 0 })
  t.equal((await uncached.inject({ url: '/me', headers: bearer(token) })).json().code, 'FST_JWT_SESSION_INVALID_TOKEN', 'the same answer as with no cache')
})

test('a cached token whose nbf is in the future after the clock steps back is refused, as a fresh check refuses it', async (t) => {
  const clock = fakeClock(t)
  const app = await buildApp(t, { clockTolerance: 5 })
  const now = Math.floor(Date.now() / 1000)
  // Issued 100 s ago, valid from 1 s ago: only `nbf` says when it starts.
  const token = forge({ alg: 'HS256', typ: 'JWT' }, validClaims({ iat: now - 100, auth_time: now - 100, nbf: now - 1, exp: now + 3600 }))
  for (let i = 0; i < 3; i++) t.equal((await app.inject({ url: '/me', headers: bearer(token) })).statusCode, 200)
  clock.setSystemTime(Date.now() - 30_000)
  const stepped = await app.inject({ url: '/me', headers: bearer(token) })
  t.equal(stepped.statusCode, 401, 'the cached token is not valid yet')
  t.equal(stepped.json().code, 'FST_JWT_SESSION_INVALID_TOKEN')
  const uncached = await buildApp(t, { clockTolerance: 5, cacheSize: 0 })
  t.equal((await uncached.inject({ url: '/me', headers: bearer(token) })).json().code, 'FST_JWT_SESSION_INVALID_TOKEN', 'the same answer as with no cache')
})
