import { test } from 'tap'
import Fastify from 'fastify'
import cookiePlugin from '@fastify/cookie'
import jwtAuth, { memoryStore } from '../lib/index'
import { bearer, buildApp, fakeClock, login, validClaims } from './helpers'
import { jwksServer, publicJwk, signed, until } from './jwks-server'
import { signingKey, verifyingKey } from './key-pairs'

test('a verify-only service trusts the issuer\'s JWKS: one fetch serves many requests, and no login route exists', async (t) => {
  const issuer = await buildApp(t, { keys: [signingKey('ES256')] })
  const jwks = await jwksServer(t)
  jwks.document.keys = (await issuer.inject({ url: '/.well-known/jwks.json' })).json().keys
  const downstream = await buildApp(t, { jwks: { url: jwks.url, refetchInterval: 1 }, verifyCredentials: undefined, audience: false })
  const token = await login(issuer)
  for (let i = 0; i < 5; i++) t.equal((await downstream.inject({ url: '/admin', headers: bearer(token) })).statusCode, 200)
  t.equal(jwks.hits(), 1)
  t.equal((await downstream.inject({ method: 'POST', url: '/@login', payload: { login: 'alice', password: 'wonderland' } })).statusCode, 404)
  const concurrent = await Promise.all([1, 2, 3].map(async () => await signed('ed25519', 'ed', 'EdDSA')))
  jwks.document.keys.push(await publicJwk('ed25519', 'ed', 'EdDSA'))
  await new Promise((resolve) => setTimeout(resolve, 1100))
  const answers = await Promise.all(concurrent.map(async (each) => (await downstream.inject({ url: '/me', headers: bearer(each) })).statusCode))
  t.same(answers, [200, 200, 200], 'a new kid is fetched, once for concurrent requests')
  t.equal(jwks.hits(), 2)
})

test('a token jose signs with the issuer\'s key is accepted through the JWKS', async (t) => {
  const jwks = await jwksServer(t)
  jwks.document.keys = [await publicJwk('rsa2048', 'rsa', 'PS256')]
  const downstream = await buildApp(t, { jwks: { url: jwks.url }, verifyCredentials: undefined, audience: false })
  t.equal((await downstream.inject({ url: '/me', headers: bearer(await signed('rsa2048', 'rsa', 'PS256')) })).statusCode, 200)
  t.equal((await downstream.inject({ url: '/me', headers: bearer(await signed('rsa2048', 'rsa', 'RS256')) })).statusCode, 401, 'the kid is published for PS256 only')
})

test('revocation across services: a logout at the issuer is refused downstream through a shared store', async (t) => {
  const store = memoryStore()
  const issuer = await buildApp(t, { keys: [signingKey('ES256')], revocationStore: store })
  const jwks = await jwksServer(t)
  jwks.document.keys = (await issuer.inject({ url: '/.well-known/jwks.json' })).json().keys
  const downstream = await buildApp(t, { jwks: { url: jwks.url }, verifyCredentials: undefined, audience: false, revocationStore: store })
  const token = await login(issuer)
  t.equal((await downstream.inject({ url: '/me', headers: bearer(token) })).statusCode, 200)
  await issuer.inject({ method: 'POST', url: '/@logout', headers: bearer(token) })
  t.equal((await downstream.inject({ url: '/me', headers: bearer(token) })).json().code, 'FST_JWT_SESSION_REVOKED_TOKEN')
})

test('unknown kids are answered from the last document, and cannot make the service fetch more than once per refetchInterval', async (t) => {
  const clock = fakeClock(t)
  const jwks = await jwksServer(t)
  jwks.document.keys = [await publicJwk('p256', 'known', 'ES256')]
  const downstream = await buildApp(t, { jwks: { url: jwks.url, refetchInterval: '30s' }, verifyCredentials: undefined, audience: false })
  const first = await downstream.inject({ url: '/me', headers: bearer(await signed('p256', 'made-up-0', 'ES256')) })
  t.equal(first.json().code, 'FST_JWT_SESSION_INVALID_TOKEN', 'the document has no such key: 401')
  for (let i = 0; i < 20; i++) {
    const response = await downstream.inject({ url: '/me', headers: bearer(await signed('p256', `made-up-${i}`, 'ES256')) })
    t.equal(response.json().code, 'FST_JWT_SESSION_INVALID_TOKEN', 'answered from the document in hand')
  }
  t.equal(jwks.hits(), 1, 'one fetch for twenty made-up kids')
  t.equal((await downstream.inject({ url: '/me', headers: bearer(await signed('p256', 'known', 'ES256')) })).statusCode, 200,
    'a kid the document holds never waits for the interval')
  jwks.document.keys.push(await publicJwk('ed25519', 'published-later', 'EdDSA'))
  const later = await signed('ed25519', 'published-later', 'EdDSA')
  t.equal((await downstream.inject({ url: '/me', headers: bearer(later) })).statusCode, 401, 'not in the document in hand yet')
  clock.tick(31_000)
  t.equal((await downstream.inject({ url: '/me', headers: bearer(later) })).statusCode, 200, 'picked up by the next fetch')
  t.equal(jwks.hits(), 2, 'one more once the interval has passed')
  for (const alg of ['HS256', 'none', 'ES384']) {
    const header = Buffer.from(JSON.stringify({ alg, kid: 'other' })).toString('base64url')
    t.equal((await downstream.inject({ url: '/me', headers: bearer(`${header}.e30.sig`) })).statusCode, 401, alg)
  }
  t.equal((await downstream.inject({ url: '/me', headers: bearer('e30.e30.sig') })).statusCode, 401, 'no kid')
  clock.tick(31_000)
  t.equal((await downstream.inject({ url: '/me', headers: bearer('e30.e30.sig') })).statusCode, 401, 'no kid, even when a fetch is due')
  t.equal(jwks.hits(), 2, 'an unsupported alg, or no kid, fetches nothing')
})

test('keys published for other uses, or of the wrong type for the alg, are refused', async (t) => {
  const jwks = await jwksServer(t)
  jwks.document.keys = [await publicJwk('p256', 'enc', 'ES256', { use: 'enc' }), await publicJwk('rsa2048', 'rsa-as-ec', 'ES256'), { kid: 'junk', alg: 'ES256', kty: 'EC', crv: 'P-256', x: 'AA', y: 'AA' }]
  const downstream = await buildApp(t, { jwks: { url: jwks.url, refetchInterval: 1 }, verifyCredentials: undefined, audience: false })
  const clock = fakeClock(t)
  for (const kid of ['enc', 'rsa-as-ec', 'junk']) {
    clock.tick(2000)
    t.equal((await downstream.inject({ url: '/me', headers: bearer(await signed('p256', kid, 'ES256')) })).json().code, 'FST_JWT_SESSION_INVALID_TOKEN', kid)
  }
})

for (const behaviour of ['garbage', 'error', 'hang', 'not-json-object', 'down'] as const) {
  test(`a JWKS endpoint that is ${behaviour} gives 503 (fail closed), and the service recovers by itself`, async (t) => {
    const clock = fakeClock(t)
    const jwks = await jwksServer(t)
    jwks.document.keys = [await publicJwk('p256', 'k', 'ES256')]
    const downstream = await buildApp(t, { jwks: { url: jwks.url, timeout: 200, refetchInterval: '30s' }, verifyCredentials: undefined, audience: false })
    const token = await signed('p256', 'k', 'ES256')
    if (behaviour === 'down') await jwks.close(); else jwks.set(behaviour)
    const started = Date.now()
    const response = await downstream.inject({ url: '/me', headers: bearer(token) })
    t.equal(response.statusCode, 503)
    t.same(response.json(), { statusCode: 503, code: 'FST_JWT_SESSION_KEYS_UNAVAILABLE', error: 'Service Unavailable', message: 'The signing keys are unavailable; try again later' })
    t.equal(response.headers['retry-after'], '5')
    t.comment(`answered in ${Date.now() - started} ms (the fetch timeout is 200 ms)`)
    t.equal((await downstream.inject({ url: '/me', headers: bearer(token) })).statusCode, 503, 'still 503 (not 401) while the issuer is away')
    if (behaviour === 'down') return
    jwks.set('serve')
    clock.tick(31_000)
    t.equal((await downstream.inject({ url: '/me', headers: bearer(token) })).statusCode, 200, 'recovered with no restart')
  })
}

test('a known key is refreshed after maxAge; a key the issuer withdrew stops verifying', async (t) => {
  const clock = fakeClock(t)
  const jwks = await jwksServer(t)
  jwks.document.keys = [await publicJwk('p256', 'old', 'ES256'), await publicJwk('ed25519', 'new', 'EdDSA')]
  const downstream = await buildApp(t, { jwks: { url: jwks.url, maxAge: '10m' }, verifyCredentials: undefined, audience: false, expiresIn: '1d', maxSessionAge: '1d' })
  const now = Math.floor(Date.now() / 1000)
  const claims = validClaims({ exp: now + 86400 })
  const token = await signed('p256', 'old', 'ES256', claims)
  t.equal((await downstream.inject({ url: '/me', headers: bearer(token) })).statusCode, 200)
  jwks.document.keys = [await publicJwk('ed25519', 'new', 'EdDSA')]
  clock.tick(11 * 60_000)
  const fresh = await signed('p256', 'old', 'ES256', validClaims({ iat: now + 660, auth_time: now + 660, exp: now + 86400 }))
  t.equal((await downstream.inject({ url: '/me', headers: bearer(fresh) })).statusCode, 200, 'served by the known key while it is refreshed')
  const later = await signed('p256', 'old', 'ES256', validClaims({ iat: now + 661, auth_time: now + 661, exp: now + 86400 }))
  t.ok(await until(async () => (await downstream.inject({ url: '/me', headers: bearer(later) })).statusCode === 401), 'withdrawn by the issuer')
  jwks.set('error')
  clock.tick(60_000)
  const claimsNow = validClaims({ iat: now + 721, auth_time: now + 721, exp: now + 86400 })
  t.equal((await downstream.inject({ url: '/me', headers: bearer(await signed('ed25519', 'newer', 'EdDSA', claimsNow)) })).statusCode, 503,
    'the issuer is failing: a kid missing from the last document may be new, so 503')
  t.equal((await downstream.inject({ url: '/me', headers: bearer(await signed('ed25519', 'new', 'EdDSA', claimsNow)) })).statusCode, 200,
    'the last good document goes on serving its keys')
})

test('a verify-only service with keys publishes no JWKS of its own', async (t) => {
  const downstream = await buildApp(t, { keys: [verifyingKey('ES256')], verifyCredentials: undefined, audience: false })
  t.equal((await downstream.inject({ url: '/.well-known/jwks.json' })).statusCode, 404)
})

test('cookie mode on a verify-only service: a cookie token whose key is fetched first is still checked for its CSRF token', async (t) => {
  const jwks = await jwksServer(t)
  jwks.document.keys.push(await publicJwk('p256', 'k1', 'ES256'))
  const token = await signed('p256', 'k1', 'ES256', validClaims({ csrf: 'the-session-csrf-token' }))
  for (const [header, expected] of [['the-session-csrf-token', 200], [undefined, 403]] as const) {
    // A new service each time: its first request waits for the key.
    const app = Fastify()
    t.teardown(() => app.close())
    await app.register(cookiePlugin)
    await app.register(jwtAuth, { jwks: { url: jwks.url }, audience: false, cookie: true })
    app.post('/orders', { onRequest: app.authenticate }, async (request) => ({ orderedBy: request.user.sub }))
    const response = await app.inject({ method: 'POST', url: '/orders', headers: { cookie: `__Host-session=${token}`, ...(header === undefined ? {} : { 'x-csrf-token': header }) } })
    t.equal(response.statusCode, expected)
  }
  t.equal(jwks.hits(), 2)
})
