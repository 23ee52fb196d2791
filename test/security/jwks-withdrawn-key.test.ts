import { test } from 'tap'
import { bearer, buildApp, fakeClock, validClaims } from '../helpers'
import { jwksServer, publicJwk, signed, until } from '../jwks-server'

/*
 * Finding 2: a key withdrawn from the JWKS went on verifying: tokens in the verified-token
 * cache stayed valid, and `{ "keys": [] }` was taken for "unavailable", so the old key was kept.
 */

test('a cached token dies when its key leaves the JWKS', async (t) => {
  const clock = fakeClock(t)
  const jwks = await jwksServer(t)
  jwks.document.keys = [await publicJwk('p256', 'old', 'ES256'), await publicJwk('ed25519', 'other', 'EdDSA')]
  const app = await buildApp(t, { jwks: { url: jwks.url, maxAge: '10m' }, verifyCredentials: undefined, audience: false, expiresIn: '1d', maxSessionAge: '1d' })
  const now = Math.floor(Date.now() / 1000)
  const token = await signed('p256', 'old', 'ES256', validClaims({ exp: now + 86400 }))
  const kept = await signed('ed25519', 'other', 'EdDSA', validClaims({ exp: now + 86400 }))
  // Seen twice, each token enters the verified-token cache.
  for (let i = 0; i < 3; i++) {
    t.equal((await app.inject({ url: '/me', headers: bearer(token) })).statusCode, 200)
    t.equal((await app.inject({ url: '/me', headers: bearer(kept) })).statusCode, 200)
  }
  jwks.document.keys = [await publicJwk('ed25519', 'other', 'EdDSA')]
  clock.tick(11 * 60_000)
  // The first request after maxAge starts the refresh; the document in hand answers it.
  t.equal((await app.inject({ url: '/me', headers: bearer(kept) })).statusCode, 200)
  t.ok(await until(async () => (await app.inject({ url: '/me', headers: bearer(token) })).json().code === 'FST_JWT_SESSION_INVALID_TOKEN'),
    'the cached token of the withdrawn key is refused once the new document is in')
  t.equal(jwks.hits(), 2, 'the document was fetched once more')
  t.equal((await app.inject({ url: '/me', headers: bearer(kept) })).statusCode, 200, 'a token of a key still published stays good')
})

test('an empty key set means "no keys" (401), not "unavailable", and withdraws every key', async (t) => {
  const clock = fakeClock(t)
  const jwks = await jwksServer(t)
  jwks.set('empty')
  const app = await buildApp(t, { jwks: { url: jwks.url, maxAge: '10m' }, verifyCredentials: undefined, audience: false })
  const token = await signed('p256', 'k', 'ES256')
  const first = await app.inject({ url: '/me', headers: bearer(token) })
  t.equal(first.statusCode, 401)
  t.equal(first.json().code, 'FST_JWT_SESSION_INVALID_TOKEN')

  jwks.set('serve')
  jwks.document.keys = [await publicJwk('p256', 'k', 'ES256')]
  clock.tick(31_000)
  for (let i = 0; i < 3; i++) t.equal((await app.inject({ url: '/me', headers: bearer(token) })).statusCode, 200)
  jwks.set('empty')
  clock.tick(11 * 60_000)
  t.ok(await until(async () => (await app.inject({ url: '/me', headers: bearer(token) })).statusCode === 401), 'withdrawn once the empty document is in')
  const later = await signed('p256', 'k', 'ES256', validClaims())
  t.equal((await app.inject({ url: '/me', headers: bearer(later) })).json().code, 'FST_JWT_SESSION_INVALID_TOKEN', 'a new token of the old key')
  t.equal((await app.inject({ url: '/me', headers: bearer(token) })).json().code, 'FST_JWT_SESSION_INVALID_TOKEN', 'a cached one')
})

test('a kid given twice in one document is ambiguous, and verifies nothing', async (t) => {
  const jwks = await jwksServer(t)
  jwks.document.keys = [await publicJwk('p256', 'twice', 'ES256'), await publicJwk('p256b', 'twice', 'ES256')]
  const app = await buildApp(t, { jwks: { url: jwks.url }, verifyCredentials: undefined, audience: false })
  t.equal((await app.inject({ url: '/me', headers: bearer(await signed('p256', 'twice', 'ES256')) })).statusCode, 401)
})
