import { test } from 'tap'
import Fastify from 'fastify'
import jwtAuth, { OptionError } from '../../lib/index'
import { bearer, buildApp, forge, validClaims } from '../helpers'
import { jwksServer, publicJwk, signed } from '../jwks-server'
import { signingKey } from '../key-pairs'

/*
 * Finding 4: with no audience, a verify-only service accepted an OIDC ID token the issuer had
 * made for another client; the header's `typ` was never looked at (RFC 8725 §3.9, §3.11).
 */

test('jwks mode refuses to start without an audience; audience: false opts out explicitly', async (t) => {
  const app = Fastify()
  t.teardown(() => app.close())
  const error = await (async () => { await app.register(jwtAuth, { jwks: { url: 'https://id.example/jwks.json' } }) })().catch((caught: unknown) => caught)
  t.type(error, OptionError)
  t.match((error as Error).message, /audience is required with jwks/)
  const optedOut = Fastify()
  t.teardown(() => optedOut.close())
  await optedOut.register(jwtAuth, { jwks: { url: 'https://id.example/jwks.json' }, audience: false })
  t.ok(await optedOut.ready(), 'audience: false starts')
})

test('a verify-only service refuses a token the issuer made for another audience', async (t) => {
  const jwks = await jwksServer(t)
  jwks.document.keys = [await publicJwk('p256', 'k', 'ES256')]
  const app = await buildApp(t, { jwks: { url: jwks.url }, verifyCredentials: undefined, audience: 'orders' })
  const idToken = await signed('p256', 'k', 'ES256', validClaims({ aud: 'another-client' }))
  t.equal((await app.inject({ url: '/me', headers: bearer(idToken) })).json().code, 'FST_JWT_SESSION_INVALID_TOKEN', 'another audience')
  t.equal((await app.inject({ url: '/me', headers: bearer(await signed('p256', 'k', 'ES256')) })).statusCode, 401, 'no audience at all')
  t.equal((await app.inject({ url: '/me', headers: bearer(await signed('p256', 'k', 'ES256', validClaims({ aud: 'orders' }))) })).statusCode, 200, 'this audience')
})

/** `typ` values and whether they name a JWT (RFC 7515 §4.1.9: case-insensitive, `application/` optional). */
const TYPES = [
  [undefined, 200], ['JWT', 200], ['jwt', 200], ['application/jwt', 200], ['Application/JWT', 200],
  ['id_token+jwt', 401], ['at+jwt', 401], ['logout+jwt', 401], ['JOSE', 401], ['', 401], [1, 401], [['JWT'], 401]
] as const

test('a token whose typ is present and not JWT is refused, with a secret, with keys and through a JWKS', async (t) => {
  const secretApp = await buildApp(t, {})
  const keysApp = await buildApp(t, { keys: [signingKey('ES256')] })
  const jwks = await jwksServer(t)
  jwks.document.keys = [await publicJwk('p256', 'ES256-1', 'ES256')]
  const jwksApp = await buildApp(t, { jwks: { url: jwks.url }, verifyCredentials: undefined, audience: false })
  for (const [typ, expected] of TYPES) {
    const header = typ === undefined ? {} : { typ }
    const viaSecret = forge({ alg: 'HS256', ...header }, validClaims())
    t.equal((await secretApp.inject({ url: '/me', headers: bearer(viaSecret) })).statusCode, expected, `secret, typ ${JSON.stringify(typ)}`)
    const viaKey = await signed('p256', 'ES256-1', 'ES256', validClaims(), { typ })
    t.equal((await keysApp.inject({ url: '/me', headers: bearer(viaKey) })).statusCode, expected, `keys, typ ${JSON.stringify(typ)}`)
    t.equal((await jwksApp.inject({ url: '/me', headers: bearer(viaKey) })).statusCode, expected, `jwks, typ ${JSON.stringify(typ)}`)
  }
})
