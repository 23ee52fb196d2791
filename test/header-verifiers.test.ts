import { test } from 'tap'
import { bearer, buildApp, fakeClock, validClaims } from './helpers'
import { jwksServer, publicJwk, signed, until } from './jwks-server'
import { pair } from './key-pairs'

/*
 * The verifier a header chose is remembered by the header's exact string (jwt/header-verifiers.ts):
 * it only picks the key to try, the keyring's keys are asked again on every use, and a wrong
 * key or a withdrawn one is refused as before.
 */

const keys = [
  { kid: 'a', algorithm: 'ES256' as const, privateKey: pair('p256').privateKey, publicKey: pair('p256').publicKey },
  { kid: 'b', algorithm: 'ES256' as const, publicKey: pair('p256b').publicKey }
]

test('a remembered header picks its key only: a token with that header and another key\'s signature is refused', async (t) => {
  const app = await buildApp(t, { keys, cacheSize: 0, audience: false })
  const status = async (token: string): Promise<number> => (await app.inject({ url: '/me', headers: bearer(token) })).statusCode
  for (let i = 0; i < 2; i++) {
    t.equal(await status(await signed('p256', 'a', 'ES256', validClaims({ jti: `a-${i}` }))), 200, 'kid a, its key')
    t.equal(await status(await signed('p256b', 'b', 'ES256', validClaims({ jti: `b-${i}` }))), 200, 'kid b, its key')
  }
  // Both headers are remembered now; each names one key, and only that key's signature passes.
  const crossed = [await signed('p256b', 'a', 'ES256'), await signed('p256', 'b', 'ES256')]
  for (const token of crossed) {
    const response = await app.inject({ url: '/me', headers: bearer(token) })
    t.equal(response.statusCode, 401)
    t.equal(response.json().code, 'FST_JWT_SESSION_INVALID_TOKEN')
  }
  t.equal(await status(app.jwtAuth.sign({ sub: 'u-carol' })), 200, 'the plugin\'s own token, header remembered or not')
})

test('more headers than the table holds: it empties and fills again, and every token still verifies by its own header', async (t) => {
  const app = await buildApp(t, { keys, cacheSize: 0, audience: false })
  // Each token its own header string (an extra parameter), all of kid a.
  const tokens = await Promise.all(Array.from({ length: 70 }, async (_, index) => await signed('p256', 'a', 'ES256', validClaims({ jti: `n-${index}` }), { n: index })))
  for (const round of [1, 2]) {
    for (const [index, token] of tokens.entries()) {
      t.equal((await app.inject({ url: '/me', headers: bearer(token) })).statusCode, 200, `round ${round}, header ${index}`)
    }
  }
  const forged = await signed('p256b', 'a', 'ES256', validClaims(), { n: 69 })
  t.equal((await app.inject({ url: '/me', headers: bearer(forged) })).statusCode, 401, 'a remembered header with the wrong key')
})

test('a remote key replaced under the same kid: the header string is the same, the old key no longer verifies', async (t) => {
  const clock = fakeClock(t)
  const jwks = await jwksServer(t)
  jwks.document.keys = [await publicJwk('p256', 'k', 'ES256')]
  const app = await buildApp(t, { jwks: { url: jwks.url, maxAge: '10m' }, cacheSize: 0, verifyCredentials: undefined, audience: false, expiresIn: '1d', maxSessionAge: '1d' })
  const now = Math.floor(Date.now() / 1000)
  const old = await signed('p256', 'k', 'ES256', validClaims({ exp: now + 86400, jti: 'old-1' }))
  const oldAgain = await signed('p256', 'k', 'ES256', validClaims({ exp: now + 86400, jti: 'old-2' }))
  const replacement = await signed('p256b', 'k', 'ES256', validClaims({ exp: now + 86400, jti: 'new-1' }))
  t.equal(old.split('.')[0], replacement.split('.')[0], 'one header string for both keys')
  t.equal((await app.inject({ url: '/me', headers: bearer(old) })).statusCode, 200, 'the header is remembered with the first key')
  t.equal((await app.inject({ url: '/me', headers: bearer(replacement) })).statusCode, 401, 'the other key\'s signature is refused')

  jwks.document.keys = [await publicJwk('p256b', 'k', 'ES256')]
  clock.tick(11 * 60_000)
  t.ok(await until(async () => (await app.inject({ url: '/me', headers: bearer(replacement) })).statusCode === 200), 'the new key verifies once its document is in')
  const refused = await app.inject({ url: '/me', headers: bearer(oldAgain) })
  t.equal(refused.statusCode, 401, 'a token of the replaced key, with the remembered header')
  t.equal(refused.json().code, 'FST_JWT_SESSION_INVALID_TOKEN')
})
