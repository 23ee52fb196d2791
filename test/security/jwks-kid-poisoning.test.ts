import { test } from 'tap'
import { bearer, buildApp, fakeClock } from '../helpers'
import { jwksServer, publicJwk, signed, unsigned } from '../jwks-server'

/*
 * Finding 1: the keyring chose the verifier from the token's own `alg` and remembered a kid as
 * absent when no key matched that kid and alg, so a forged header could lock a real key out.
 */

test('a forged token naming a real kid with another alg does not lock that key out', async (t) => {
  fakeClock(t)
  const jwks = await jwksServer(t)
  jwks.document.keys = [await publicJwk('p256', '2026-11', 'ES256')]
  const app = await buildApp(t, { jwks: { url: jwks.url, refetchInterval: '30s', maxAge: '10m' }, verifyCredentials: undefined, audience: false })
  for (const alg of ['RS256', 'PS256', 'EdDSA']) {
    t.equal((await app.inject({ url: '/me', headers: bearer(unsigned({ alg, typ: 'JWT', kid: '2026-11' })) })).statusCode, 401, `a forged ${alg} token is refused`)
  }
  t.equal((await app.inject({ url: '/me', headers: bearer(await signed('p256', '2026-11', 'ES256')) })).statusCode, 200, 'the real ES256 key still verifies, at once')
  t.equal(jwks.hits(), 1)
})

test('an RSA key published without alg verifies RS256 and PS256, and a junk token cannot pin one of them', async (t) => {
  fakeClock(t)
  const jwks = await jwksServer(t)
  jwks.document.keys = [await publicJwk('rsa2048', 'rsa', undefined)]
  const app = await buildApp(t, { jwks: { url: jwks.url, refetchInterval: '30s', maxAge: '10m' }, verifyCredentials: undefined, audience: false })
  t.equal((await app.inject({ url: '/me', headers: bearer(unsigned({ alg: 'PS256', typ: 'JWT', kid: 'rsa' })) })).statusCode, 401, 'junk PS256 token')
  t.equal((await app.inject({ url: '/me', headers: bearer(await signed('rsa2048', 'rsa', 'RS256')) })).statusCode, 200, 'real RS256 token')
  t.equal((await app.inject({ url: '/me', headers: bearer(await signed('rsa2048', 'rsa', 'PS256')) })).statusCode, 200, 'real PS256 token')
  t.equal((await app.inject({ url: '/me', headers: bearer(unsigned({ alg: 'ES256', typ: 'JWT', kid: 'rsa' })) })).statusCode, 401, 'an RSA key never verifies ES256')
})

test('the algorithm comes from the JWK: a P-256 or Ed25519 key without alg verifies only its own', async (t) => {
  const jwks = await jwksServer(t)
  jwks.document.keys = [await publicJwk('p256', 'ec', undefined), await publicJwk('ed25519', 'ed', undefined)]
  const app = await buildApp(t, { jwks: { url: jwks.url }, verifyCredentials: undefined, audience: false })
  t.equal((await app.inject({ url: '/me', headers: bearer(await signed('p256', 'ec', 'ES256')) })).statusCode, 200)
  t.equal((await app.inject({ url: '/me', headers: bearer(await signed('ed25519', 'ed', 'EdDSA')) })).statusCode, 200)
  t.equal((await app.inject({ url: '/me', headers: bearer(unsigned({ alg: 'EdDSA', typ: 'JWT', kid: 'ec' })) })).statusCode, 401)
})

test('random kids sent every refetchInterval cannot keep a newly published key out', async (t) => {
  const clock = fakeClock(t)
  const jwks = await jwksServer(t)
  jwks.document.keys = [await publicJwk('p256', 'old', 'ES256')]
  const app = await buildApp(t, { jwks: { url: jwks.url, refetchInterval: '30s' }, verifyCredentials: undefined, audience: false })
  t.equal((await app.inject({ url: '/me', headers: bearer(await signed('p256', 'old', 'ES256')) })).statusCode, 200)
  jwks.document.keys.push(await publicJwk('ed25519', 'new', 'EdDSA'))
  const codes = new Set<number>()
  for (let round = 0; round < 4; round++) {
    clock.tick(30_000)
    // The attacker spends each interval's fetch on a made-up kid, before any real client.
    codes.add((await app.inject({ url: '/me', headers: bearer(unsigned({ alg: 'ES256', typ: 'JWT', kid: `random-${round}` })) })).statusCode)
    const response = await app.inject({ url: '/me', headers: bearer(await signed('ed25519', 'new', 'EdDSA')) })
    t.equal(response.statusCode, 200, `round ${round}: the new key verifies`)
  }
  t.same([...codes], [401], 'made-up kids get 401, not 503')
  t.equal(jwks.hits(), 5, 'one fetch per interval')
})
