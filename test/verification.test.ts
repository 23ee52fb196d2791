import { test } from 'tap'
import { bearer, buildApp, encode, fakeClock, forge, login, SECRET, validClaims } from './helpers'

const HEADER = { alg: 'HS256', typ: 'JWT' }

/** Sends `token` to `/me` and answers the status and code. */
async function probe (app: Awaited<ReturnType<typeof buildApp>>, token: string): Promise<[number, string | undefined]> {
  const response = await app.inject({ url: '/me', headers: bearer(token) })
  return [response.statusCode, response.statusCode === 200 ? undefined : response.json().code]
}

const INVALID: [number, string] = [401, 'FST_JWT_SESSION_INVALID_TOKEN']
const EXPIRED: [number, string] = [401, 'FST_JWT_SESSION_EXPIRED_TOKEN']
const OK: [number, undefined] = [200, undefined]

test('a forged token that is well signed with our secret is accepted (the baseline of the cases below)', async (t) => {
  const app = await buildApp(t, { expiresIn: '1h' })
  t.same(await probe(app, forge(HEADER, validClaims())), OK)
})

test('alg none is refused in every casing, with and without a signature', async (t) => {
  const app = await buildApp(t, { expiresIn: '1h' })
  for (const alg of ['none', 'None', 'NONE', 'nOnE']) {
    const unsigned = `${encode({ alg, typ: 'JWT' })}.${encode(validClaims())}.`
    t.same(await probe(app, unsigned), INVALID, `${alg}, no signature`)
    const withSignature = forge({ alg, typ: 'JWT' }, validClaims())
    t.same(await probe(app, withSignature), INVALID, `${alg}, HMAC signature`)
  }
})

test('other algorithms under an HS256 secret are refused', async (t) => {
  const app = await buildApp(t, { expiresIn: '1h' })
  t.same(await probe(app, forge({ alg: 'HS512', typ: 'JWT' }, validClaims(), SECRET, 'sha512')), INVALID, 'HS512')
  t.same(await probe(app, forge({ alg: 'HS384', typ: 'JWT' }, validClaims(), SECRET, 'sha384')), INVALID, 'HS384')
  t.same(await probe(app, forge({ alg: 'HS256', typ: 'JWT' }, validClaims(), SECRET, 'sha512')), INVALID, 'HS256 label, SHA-512 MAC')
  t.same(await probe(app, forge({ alg: 'RS256', typ: 'JWT' }, validClaims())), INVALID, 'RS256 label')
  t.same(await probe(app, forge({ typ: 'JWT' }, validClaims())), INVALID, 'no alg')
})

test('a stripped, tampered or foreign signature is refused', async (t) => {
  const app = await buildApp(t)
  const token = await login(app, 'bob')
  const [header, payload, signature] = token.split('.') as [string, string, string]
  t.same(await probe(app, `${header}.${payload}.`), INVALID, 'stripped')
  t.same(await probe(app, `${header}.${payload}`), INVALID, 'no third part')
  const escalated = encode({ ...JSON.parse(Buffer.from(payload, 'base64url').toString()), roles: ['admin'] })
  t.same(await probe(app, `${header}.${escalated}.${signature}`), INVALID, 'payload tampered')
  const flipped = signature.slice(0, 10) + (signature[10] === 'A' ? 'B' : 'A') + signature.slice(11)
  t.same(await probe(app, `${header}.${payload}.${flipped}`), INVALID, 'signature tampered')
  t.same(await probe(app, forge(HEADER, validClaims(), 'another-secret-of-at-least-32-bytes!')), INVALID, 'another key')
  t.same(await probe(app, `${header}.${payload}.${signature.slice(0, -2)}`), INVALID, 'signature truncated')
})

test('each required claim is required', async (t) => {
  const app = await buildApp(t, { expiresIn: '1h' })
  // A token without gen or auth_us comes from before sessions had generations: refused.
  for (const claim of ['exp', 'iat', 'jti', 'sub', 'sid', 'auth_time', 'auth_us', 'gen']) {
    const claims = validClaims()
    delete claims[claim]
    t.same(await probe(app, forge(HEADER, claims)), INVALID, `without ${claim}`)
  }
})

test('claims of the wrong type are refused', async (t) => {
  const app = await buildApp(t, { expiresIn: '1h' })
  const now = Math.floor(Date.now() / 1000)
  const cases: Array<[string, Record<string, unknown>]> = [
    ['exp as a string', { exp: String(now + 60) }],
    ['iat as a string', { iat: String(now) }],
    ['auth_time as a string', { auth_time: String(now) }],
    ['sub as a number', { sub: 42 }],
    ['an empty sub', { sub: '' }],
    ['jti as a number', { jti: 7 }],
    ['an empty jti', { jti: '' }],
    ['an empty sid', { sid: '' }],
    ['roles as a string', { roles: 'admin' }],
    ['roles holding a number', { roles: ['admin', 1] }],
    ['an auth_time after iat', { auth_time: now + 60 }],
    ['gen as a string', { gen: '0' }],
    ['a negative gen', { gen: -1 }],
    ['a fractional gen', { gen: 1.5 }],
    ['auth_us as a string', { auth_us: String(now * 1_000_000) }],
    ['a negative auth_us', { auth_us: -1 }],
    ['an auth_us of another second than auth_time', { auth_us: (now - 1) * 1_000_000 }],
    ['an auth_us in milliseconds', { auth_us: now * 1000 }],
    ['an auth_us further past auth_time than a cut-off can raise it', { auth_us: (now + 11) * 1_000_000 }]
  ]
  for (const [name, overrides] of cases) t.same(await probe(app, forge(HEADER, validClaims(overrides))), INVALID, name)
  const noRoles = validClaims()
  delete noRoles.roles
  t.same(await probe(app, forge(HEADER, noRoles)), OK, 'roles may be absent and default to []')
})

test('payloads that are not JSON objects are refused', async (t) => {
  const app = await buildApp(t)
  for (const payload of ['[1,2]', '"alice"', '42', 'null', 'true', '{"sub":']) {
    const input = `${encode(HEADER)}.${encode(payload)}`
    const token = forge(HEADER, validClaims()).split('.')
    t.same(await probe(app, `${input}.${token[2]}`), INVALID, payload)
    t.same(await probe(app, forge(HEADER, payload)), INVALID, `${payload}, well signed`)
  }
})

test('expiry honours the clock tolerance, and no further', async (t) => {
  const clock = fakeClock(t)
  const app = await buildApp(t, { expiresIn: 60, clockTolerance: 5 })
  const token = await login(app)
  t.same(await probe(app, token), OK)
  clock.tick(60_000 + 5_000)
  t.same(await probe(app, token), OK, 'at exp + tolerance')
  clock.tick(1_000)
  t.same(await probe(app, token), EXPIRED, 'past exp + tolerance, from the verified-token cache')
  const now = Math.floor(Date.now() / 1000)
  t.same(await probe(app, forge(HEADER, validClaims({ iat: now - 70, auth_time: now - 70, exp: now - 10 }))), EXPIRED, 'never seen before')
  const expired = await app.inject({ url: '/me', headers: bearer(token) })
  t.equal(expired.headers['www-authenticate'], 'Bearer error="invalid_token", error_description="The token has expired"')
})

test('an iat in the future is refused beyond the tolerance', async (t) => {
  const app = await buildApp(t, { expiresIn: '1h', clockTolerance: 5 })
  const now = Math.floor(Date.now() / 1000)
  t.same(await probe(app, forge(HEADER, validClaims({ iat: now + 3, auth_time: now + 3, exp: now + 3603 }))), OK, 'within the tolerance')
  t.same(await probe(app, forge(HEADER, validClaims({ iat: now + 60, auth_time: now + 60, exp: now + 3660 }))), INVALID, 'a minute ahead')
})

test('an nbf in the future is refused', async (t) => {
  const app = await buildApp(t, { expiresIn: '1h' })
  const now = Math.floor(Date.now() / 1000)
  t.same(await probe(app, forge(HEADER, validClaims({ nbf: now + 600 }))), INVALID)
  t.same(await probe(app, forge(HEADER, validClaims({ nbf: now - 1 }))), OK)
})

test('a lifetime longer than expiresIn is refused, however far exp is', async (t) => {
  const app = await buildApp(t, { expiresIn: '1h' })
  const now = Math.floor(Date.now() / 1000)
  t.same(await probe(app, forge(HEADER, validClaims({ exp: now + 3600 }))), OK, 'exactly expiresIn')
  t.same(await probe(app, forge(HEADER, validClaims({ exp: now + 3601 }))), INVALID, 'one second more')
  t.same(await probe(app, forge(HEADER, validClaims({ exp: now + 10 * 365 * 86400 }))), INVALID, 'ten years')
  t.same(await probe(app, forge(HEADER, validClaims({ exp: 1e300 }))), INVALID, 'absurd')
})

test('issuer and audience are required when configured', async (t) => {
  const app = await buildApp(t, { expiresIn: '1h', issuer: 'https://id.example', audience: 'shop' })
  const claims = { iss: 'https://id.example', aud: 'shop' }
  t.same(await probe(app, forge(HEADER, validClaims(claims))), OK)
  t.same(await probe(app, forge(HEADER, validClaims({ ...claims, iss: 'https://evil.example' }))), INVALID, 'wrong iss')
  t.same(await probe(app, forge(HEADER, validClaims({ ...claims, aud: 'other' }))), INVALID, 'wrong aud')
  t.same(await probe(app, forge(HEADER, validClaims({ aud: 'shop' }))), INVALID, 'no iss')
  t.same(await probe(app, forge(HEADER, validClaims({ iss: 'https://id.example' }))), INVALID, 'no aud')
  t.same(await probe(app, await login(app)), OK, 'our own tokens carry both')
})

test('headers that point at keys, or unknown critical extensions, are refused', async (t) => {
  const app = await buildApp(t, { expiresIn: '1h' })
  const cases: Array<[string, Record<string, unknown>]> = [
    ['jku', { jku: 'http://127.0.0.1:1/jwks.json' }],
    ['x5u', { x5u: 'http://127.0.0.1:1/cert.pem' }],
    ['jwk', { jwk: { kty: 'oct', k: encode(SECRET) } }],
    ['x5c', { x5c: ['MIIB'] }],
    ['crit', { crit: ['exp'], exp: 1 }],
    ['unknown crit', { crit: ['x-custom'], 'x-custom': true }]
  ]
  for (const [name, extra] of cases) t.same(await probe(app, forge({ ...HEADER, ...extra }, validClaims())), INVALID, name)
})

test('a token is cached from its second verification on, and answers the same frozen claims', async (t) => {
  const app = await buildApp(t)
  const token = await login(app)
  const first = await app.jwtAuth.verify(token)
  const second = await app.jwtAuth.verify(token)
  const third = await app.jwtAuth.verify(token)
  t.not(first, second, 'seen once: verified again, not cached yet')
  t.same(first, second)
  t.equal(second, third, 'seen twice: cached')
  t.ok(Object.isFrozen(first))
  t.ok(Object.isFrozen(first.roles))
})

test('tokens seen once do not displace cached ones', async (t) => {
  const app = await buildApp(t, { cacheSize: 4 })
  const hot = await login(app)
  await app.jwtAuth.verify(hot)
  const cached = await app.jwtAuth.verify(hot)
  for (let i = 0; i < 20; i++) await app.jwtAuth.verify(app.jwtAuth.sign({ sub: `one-off-${i}` }))
  t.equal(await app.jwtAuth.verify(hot), cached, 'still cached after twenty one-off tokens')
})

test('with cacheSize 0 nothing is kept: each request verifies anew, with the same answers', async (t) => {
  const clock = fakeClock(t)
  const app = await buildApp(t, { cacheSize: 0, expiresIn: 60, clockTolerance: 0 })
  const token = await login(app)
  const first = await app.jwtAuth.verify(token)
  const second = await app.jwtAuth.verify(token)
  t.not(first, second, 'verified twice')
  t.same(first, second)
  clock.tick(61_000)
  t.same(await probe(app, token), EXPIRED)
})
