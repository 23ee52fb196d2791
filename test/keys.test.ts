import { test } from 'tap'
import { createServer } from 'node:http'
import { createHmac } from 'node:crypto'
import * as jose from 'jose'
import { memoryStore } from '../lib/index'
import { bearer, buildApp, decodeHeader, encode, login, validClaims } from './helpers'
import { pair, signingKey, verifyingKey, PAIR_FOR } from './key-pairs'

const ALGORITHMS = Object.keys(PAIR_FOR) as Array<keyof typeof PAIR_FOR>

for (const algorithm of ALGORITHMS) {
  test(`${algorithm}: tokens carry the kid, verify here, renew, and verify with jose through our JWKS`, async (t) => {
    const app = await buildApp(t, { keys: [signingKey(algorithm)], issuer: 'https://id.example' })
    const token = await login(app)
    t.same(decodeHeader(token), { alg: algorithm, typ: 'JWT', kid: `${algorithm}-1` })
    t.equal((await app.inject({ url: '/me', headers: bearer(token) })).statusCode, 200)
    const renewed = await app.inject({ method: 'POST', url: '/@login-renew', headers: bearer(token) })
    t.equal(renewed.statusCode, 200)
    const jwks = (await app.inject({ url: '/.well-known/jwks.json' })).json()
    const { payload, protectedHeader } = await jose.jwtVerify(renewed.json().token, jose.createLocalJWKSet(jwks), { issuer: 'https://id.example', algorithms: [algorithm] })
    t.equal(payload.sub, 'u-alice')
    t.equal(protectedHeader.kid, `${algorithm}-1`)
  })

  test(`${algorithm}: a token jose signs with a configured key is accepted by a verify-only service`, async (t) => {
    const downstream = await buildApp(t, { keys: [verifyingKey(algorithm)], verifyCredentials: undefined })
    const claims = validClaims()
    const key = await jose.importPKCS8(pair(PAIR_FOR[algorithm]).privateKey, algorithm)
    const token = await new jose.SignJWT(claims).setProtectedHeader({ alg: algorithm, typ: 'JWT', kid: `${algorithm}-1` }).sign(key)
    t.equal((await downstream.inject({ url: '/me', headers: bearer(token) })).statusCode, 200)
    const noKid = await new jose.SignJWT(claims).setProtectedHeader({ alg: algorithm }).sign(key)
    t.equal((await downstream.inject({ url: '/me', headers: bearer(noKid) })).json().code, 'FST_JWT_SESSION_INVALID_TOKEN', 'the kid is required')
  })
}

test('keys may be PEM strings, PEM Buffers or KeyObjects', async (t) => {
  const { privateObject, publicObject, privateKey, publicKey } = pair('p256')
  for (const key of [
    { kid: 'a', algorithm: 'ES256' as const, privateKey: privateObject, publicKey: publicObject },
    { kid: 'a', algorithm: 'ES256' as const, privateKey: Buffer.from(privateKey), publicKey: Buffer.from(publicKey) }
  ]) {
    const app = await buildApp(t, { keys: [key] })
    t.equal((await app.inject({ url: '/me', headers: bearer(await login(app)) })).statusCode, 200)
  }
})

test('the JWKS lists every public key with kid, alg and use, a Cache-Control header, and no private part', async (t) => {
  const app = await buildApp(t, { keys: [signingKey('ES256', 'new'), verifyingKey('RS256', 'old'), { ...verifyingKey('EdDSA', 'ed') }] })
  const response = await app.inject({ url: '/.well-known/jwks.json' })
  t.equal(response.statusCode, 200)
  t.match(response.headers['cache-control'], /^public, max-age=\d+$/)
  const { keys } = response.json()
  t.same(keys.map((key: jose.JWK) => [key.kid, key.alg, key.use, key.kty]), [['new', 'ES256', 'sig', 'EC'], ['old', 'RS256', 'sig', 'RSA'], ['ed', 'EdDSA', 'sig', 'OKP']])
  for (const key of keys) {
    for (const secret of ['d', 'p', 'q', 'dp', 'dq', 'qi', 'k']) t.notOk(secret in key, `${key.kid} has no ${secret}`)
  }
  t.ok(keys[0].x && keys[0].y && keys[1].n && keys[1].e && keys[2].x, 'the public parameters are there')
})

test('routes.jwks moves or removes the JWKS route', async (t) => {
  const moved = await buildApp(t, { keys: [signingKey('ES256')], routes: { prefix: '/auth', jwks: '/keys' } })
  t.equal((await moved.inject({ url: '/auth/keys' })).statusCode, 200)
  const none = await buildApp(t, { keys: [signingKey('ES256')], routes: { jwks: false } })
  t.equal((await none.inject({ url: '/.well-known/jwks.json' })).statusCode, 404)
})

test('rotation: the new key signs first, the old public key keeps verifying until it is dropped', async (t) => {
  const before = await buildApp(t, { keys: [signingKey('ES256', '2026-01')] })
  const oldToken = await login(before)
  const during = await buildApp(t, { keys: [signingKey('EdDSA', '2026-06'), verifyingKey('ES256', '2026-01')] })
  t.equal((await during.inject({ url: '/me', headers: bearer(oldToken) })).statusCode, 200, 'old tokens still verify')
  const newToken = await login(during)
  t.equal(decodeHeader(newToken).kid, '2026-06', 'new tokens use the new key')
  const jwks = (await during.inject({ url: '/.well-known/jwks.json' })).json()
  t.same(jwks.keys.map((key: jose.JWK) => key.kid), ['2026-06', '2026-01'])
  const after = await buildApp(t, { keys: [signingKey('EdDSA', '2026-06')] })
  t.equal((await after.inject({ url: '/me', headers: bearer(oldToken) })).statusCode, 401, 'once the old key is gone, so are its tokens')
  t.equal((await after.inject({ url: '/me', headers: bearer(newToken) })).statusCode, 200)
})

test('a kid that is unknown, missing, odd or huge is refused', async (t) => {
  const app = await buildApp(t, { keys: [signingKey('ES256')] })
  const [, payload, signature] = (await login(app)).split('.')
  for (const kid of [undefined, 'nope', '../../../../etc/passwd', "' OR '1'='1", 'k'.repeat(10 * 1024), 42, ['ES256-1']]) {
    const header = encode({ alg: 'ES256', typ: 'JWT', ...(kid === undefined ? {} : { kid }) })
    const response = await app.inject({ url: '/me', headers: bearer(`${header}.${payload}.${signature}`) })
    t.equal(response.statusCode, 401, String(kid).slice(0, 30))
    t.equal(response.json().code, 'FST_JWT_SESSION_INVALID_TOKEN')
  }
  for (const header of [encode('not json'), encode('null'), encode('"ES256-1"'), '']) {
    const response = await app.inject({ url: '/me', headers: bearer(`${header}.${payload}.${signature}`) })
    t.equal(response.json().code, 'FST_JWT_SESSION_INVALID_TOKEN', `header ${header}`)
  }
})

test('algorithm confusion: an HMAC token keyed with a public key is refused, in every encoding', async (t) => {
  const app = await buildApp(t, { keys: [signingKey('RS256'), verifyingKey('ES256', 'ec')] })
  const rsa = pair('rsa2048').publicObject
  const ec = pair('p256').publicObject
  const encodings = [
    rsa.export({ type: 'spki', format: 'pem' }) as string,
    rsa.export({ type: 'pkcs1', format: 'pem' }) as string,
    (rsa.export({ type: 'spki', format: 'pem' }) as string).replace(/\n/g, '\r\n'),
    `  ${rsa.export({ type: 'spki', format: 'pem' }) as string}\n\n`,
    JSON.stringify(rsa.export({ format: 'jwk' })),
    rsa.export({ type: 'spki', format: 'der' }).toString('base64'),
    ec.export({ type: 'spki', format: 'pem' }) as string
  ]
  for (const key of encodings) {
    for (const kid of ['RS256-1', 'ec', undefined]) {
      for (const alg of ['HS256', 'HS384', 'HS512']) {
        const input = `${encode({ alg, typ: 'JWT', ...(kid === undefined ? {} : { kid }) })}.${encode(validClaims())}`
        const mac = createHmac(`sha${alg.slice(2)}`, key).update(input).digest('base64url')
        t.equal((await app.inject({ url: '/me', headers: bearer(`${input}.${mac}`) })).statusCode, 401)
      }
    }
  }
})

test('a token whose alg does not match its key is refused', async (t) => {
  const app = await buildApp(t, { keys: [signingKey('RS256'), signingKey('PS256', 'ps')] })
  const key = await jose.importPKCS8(pair('rsa2048').privateKey, 'PS256')
  const ps = await new jose.SignJWT(validClaims()).setProtectedHeader({ alg: 'PS256', typ: 'JWT', kid: 'RS256-1' }).sign(key)
  t.equal((await app.inject({ url: '/me', headers: bearer(ps) })).statusCode, 401, 'PS256 under the RS256 kid')
  const rs = await new jose.SignJWT(validClaims()).setProtectedHeader({ alg: 'RS256', typ: 'JWT', kid: 'ps' }).sign(await jose.importPKCS8(pair('rsa2048').privateKey, 'RS256'))
  t.equal((await app.inject({ url: '/me', headers: bearer(rs) })).statusCode, 401, 'RS256 under the PS256 kid')
  const good = await new jose.SignJWT(validClaims()).setProtectedHeader({ alg: 'PS256', typ: 'JWT', kid: 'ps' }).sign(key)
  t.equal((await app.inject({ url: '/me', headers: bearer(good) })).statusCode, 200)
})

test('a token that brings its own key, or points to one, is refused, and the URL is never fetched', async (t) => {
  let hits = 0
  const bait = createServer((_request, response) => { hits++; response.end('{"keys":[]}') })
  await new Promise<void>((resolve) => bait.listen(0, '127.0.0.1', resolve))
  t.teardown(() => bait.close())
  const address = bait.address()
  const url = `http://127.0.0.1:${typeof address === 'object' && address !== null ? address.port : 0}`
  const app = await buildApp(t, { keys: [signingKey('ES256')] })
  const key = await jose.importPKCS8(pair('p256').privateKey, 'ES256')
  const publicJwk = await jose.exportJWK(await jose.importSPKI(pair('p256').publicKey, 'ES256'))
  for (const extra of [{ jku: `${url}/jwks.json` }, { x5u: `${url}/cert.pem` }, { jwk: publicJwk }, { x5c: ['MIIB'] }]) {
    const token = await new jose.SignJWT(validClaims()).setProtectedHeader({ alg: 'ES256', typ: 'JWT', kid: 'ES256-1', ...extra }).sign(key)
    t.equal((await app.inject({ url: '/me', headers: bearer(token) })).statusCode, 401, Object.keys(extra).join())
  }
  t.equal(hits, 0, 'nothing was fetched')
})

test('verify-only with public keys: no login, renew or logout route; authenticate and the store work', async (t) => {
  const store = memoryStore()
  const issuer = await buildApp(t, { keys: [signingKey('ES256')], revocationStore: store })
  const downstream = await buildApp(t, { keys: [verifyingKey('ES256')], verifyCredentials: undefined, revocationStore: store })
  for (const url of ['/@login', '/@login-renew', '/@logout', '/.well-known/jwks.json']) {
    t.equal((await downstream.inject({ method: url.startsWith('/@') ? 'POST' : 'GET', url })).statusCode, 404, url)
  }
  const token = await login(issuer)
  t.equal((await downstream.inject({ url: '/admin', headers: bearer(token) })).statusCode, 200)
  t.equal((await issuer.inject({ method: 'POST', url: '/@logout', headers: bearer(token) })).statusCode, 204)
  t.equal((await downstream.inject({ url: '/me', headers: bearer(token) })).json().code, 'FST_JWT_SESSION_REVOKED_TOKEN', 'a logout at the issuer is refused downstream')
  t.throws(() => downstream.jwtAuth.sign({ sub: 'x' }), /only verifies tokens/)
})
