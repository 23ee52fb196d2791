import { test } from 'tap'
import Fastify from 'fastify'
import * as jose from 'jose'
import jwtAuth, { OptionError, type JwtSessionOptions } from '../../lib/index'
import { bearer, buildApp } from '../helpers'
import { jwksServer, publicJwk, signed } from '../jwks-server'
import { pair } from '../key-pairs'

/*
 * Finding 3: plain http: to any host was accepted, redirects were followed to another host, a
 * 100 MB answer was read whole, and `key_ops` was ignored.
 */

async function register (t: { teardown (fn: () => unknown): void }, options: JwtSessionOptions): Promise<unknown> {
  const app = Fastify()
  t.teardown(() => app.close())
  try {
    await app.register(jwtAuth, { audience: false, ...options })
    await app.ready()
  } catch (error) {
    return error
  }
  return undefined
}

test('a JWKS URL must be https:, or http: to a loopback host only, and carry no credentials', async (t) => {
  for (const url of ['http://id.example/jwks.json', 'http://10.0.0.8/jwks.json', 'http://[fe80::1]/jwks.json', 'http://localhost.example/jwks.json', 'ftp://id.example/jwks.json']) {
    const error = await register(t, { jwks: { url } })
    t.type(error, OptionError, url)
    t.match((error as Error).message, /jwks.url must be an https: URL \(http: only to a loopback host/, url)
  }
  t.match(await register(t, { jwks: { url: 'https://user:secret@id.example/jwks.json' } }), { message: /jwks.url must not carry a user name or password/ })
  for (const url of ['https://id.example/jwks.json', 'http://localhost:8080/jwks.json', 'http://127.0.0.2/jwks.json', 'http://[::1]:8080/jwks.json']) {
    t.equal(await register(t, { jwks: { url } }), undefined, url)
  }
})

test('a redirect is not followed: a token of the server it points to is refused (503)', async (t) => {
  const elsewhere = await jwksServer(t, '127.0.0.2')
  elsewhere.document.keys = [await publicJwk('p256b', 'k', 'ES256')]
  const jwks = await jwksServer(t)
  jwks.handle((_request, response) => { response.writeHead(302, { location: elsewhere.url }).end() })
  const app = await buildApp(t, { jwks: { url: jwks.url }, verifyCredentials: undefined, audience: false })
  const response = await app.inject({ url: '/me', headers: bearer(await signed('p256b', 'k', 'ES256')) })
  t.equal(response.statusCode, 503)
  t.equal(response.json().code, 'FST_JWT_SESSION_KEYS_UNAVAILABLE')
  t.equal(elsewhere.hits(), 0, 'the other server was never asked')
})

test('a JWKS document over 64 KB is refused (503), and an endless one is not read past the cap', async (t) => {
  const jwks = await jwksServer(t)
  const key = await publicJwk('p256', 'k', 'ES256')
  // A valid document, padded past the cap with a field the keyring ignores.
  const padded = JSON.stringify({ keys: [key], padding: 'x'.repeat(1024 * 1024) })
  jwks.handle((_request, response) => { response.end(padded) })
  const app = await buildApp(t, { jwks: { url: jwks.url, refetchInterval: 1 }, verifyCredentials: undefined, audience: false })
  const token = await signed('p256', 'k', 'ES256')
  t.equal((await app.inject({ url: '/me', headers: bearer(token) })).statusCode, 503, 'a 1 MB document')

  let written = 0
  jwks.handle((_request, response) => {
    const chunk = Buffer.alloc(16 * 1024, ' ')
    const more = (): void => {
      while (!response.destroyed && written < 100 * 1024 * 1024) {
        written += chunk.length
        if (!response.write(chunk)) {
          response.once('drain', more)
          return
        }
      }
    }
    response.on('close', () => response.removeAllListeners('drain'))
    response.write('{"keys":[')
    more()
  })
  await new Promise((resolve) => setTimeout(resolve, 1100))
  t.equal((await app.inject({ url: '/me', headers: bearer(token) })).statusCode, 503, 'an endless document')
  t.ok(written < 10 * 1024 * 1024, `the answer was dropped early (${Math.round(written / 1024)} KB written of 100 MB)`)
})

test('use and key_ops are respected: only a key meant for verifying verifies', async (t) => {
  const jwks = await jwksServer(t)
  const privateJwk = { ...await jose.exportJWK(pair('p256').privateObject), kid: 'private', alg: 'ES256' }
  jwks.document.keys = [
    await publicJwk('p256', 'verify', 'ES256', { key_ops: ['verify'] }),
    await publicJwk('p256', 'no-use', 'ES256', { use: undefined }),
    await publicJwk('p256', 'encrypt', 'ES256', { use: undefined, key_ops: ['encrypt'] }),
    await publicJwk('p256', 'ops-not-a-list', 'ES256', { key_ops: 'verify' }),
    await publicJwk('p256', 'enc', 'ES256', { use: 'enc' }),
    await publicJwk('p256', 'unknown-alg', 'ES512'),
    await publicJwk('p384', 'p384', undefined),
    { ...await publicJwk('p256', 'x', 'ES256'), kid: undefined },
    'not a key',
    privateJwk
  ]
  const app = await buildApp(t, { jwks: { url: jwks.url }, verifyCredentials: undefined, audience: false })
  for (const [kid, expected] of [['verify', 200], ['no-use', 200], ['encrypt', 401], ['ops-not-a-list', 401], ['enc', 401], ['unknown-alg', 401], ['p384', 401], ['private', 401]] as const) {
    t.equal((await app.inject({ url: '/me', headers: bearer(await signed('p256', kid, 'ES256')) })).statusCode, expected, kid)
  }
})
