import { test } from 'tap'
import fc from 'fast-check'
import { bearer, buildApp, encode, forge, login, validClaims } from '../helpers'

/** Any of these statuses is a documented answer; a 5xx or a hang is a bug. */
const DOCUMENTED = new Set([200, 400, 401, 403])

/** base64url text, as a token segment is made of, including the empty string. */
const segment = fc.string({ unit: fc.constantFrom(...'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'), maxLength: 80 })

test('fuzz: any Authorization header gets a documented 4xx or a 200, never a 5xx', async (t) => {
  const app = await buildApp(t)
  const token = await login(app)
  const header = fc.oneof(
    fc.string({ maxLength: 300 }),
    fc.string({ unit: 'grapheme', maxLength: 100 }).map((text) => `Bearer ${text}`),
    fc.tuple(fc.constantFrom('Bearer', 'bearer', 'BEARER', 'Basic', 'Token', ''), fc.string({ maxLength: 5, unit: fc.constantFrom(' ', '\t') }), fc.string({ maxLength: 120 }))
      .map(([scheme, space, rest]) => `${scheme}${space}${rest}`),
    fc.tuple(fc.integer({ min: 0, max: token.length }), fc.string({ minLength: 1, maxLength: 3 }))
      .map(([at, insert]) => `Bearer ${token.slice(0, at)}${insert}${token.slice(at)}`)
  )
  await fc.assert(fc.asyncProperty(header, async (authorization) => {
    // Node's HTTP parser refuses control characters in headers before any plugin sees them.
    // eslint-disable-next-line no-control-regex -- matching them is the point
    if (/[\0-\x08\x0a-\x1f\x7f]/.test(authorization)) return true
    const response = await app.inject({ url: '/me', headers: { authorization } })
    return DOCUMENTED.has(response.statusCode) && (response.statusCode !== 200 || authorization.includes(token.split('.')[2] as string))
  }), { numRuns: 1500 })
  t.equal((await app.inject({ url: '/me', headers: bearer(token) })).statusCode, 200, 'still serving valid tokens')
})

test('fuzz: tokens made of random parts, or random JSON well signed, are refused with 401', async (t) => {
  const app = await buildApp(t, { expiresIn: '1h' })
  await fc.assert(fc.asyncProperty(segment, segment, segment, async (header, payload, signature) => {
    const response = await app.inject({ url: '/me', headers: bearer(`${header}.${payload}.${signature}`) })
    return response.statusCode === 401 || response.statusCode === 400
  }), { numRuns: 1000 })
  await fc.assert(fc.asyncProperty(fc.jsonValue(), fc.jsonValue(), async (header, payload) => {
    const response = await app.inject({ url: '/me', headers: bearer(forge(header, payload)) })
    return response.statusCode === 401
  }), { numRuns: 1000 })
  await fc.assert(fc.asyncProperty(fc.dictionary(fc.constantFrom('exp', 'iat', 'jti', 'sub', 'sid', 'auth_time', 'roles', 'nbf', 'iss', 'aud'), fc.jsonValue()), async (overrides) => {
    const response = await app.inject({ url: '/me', headers: bearer(forge({ alg: 'HS256', typ: 'JWT' }, validClaims(overrides))) })
    return DOCUMENTED.has(response.statusCode)
  }), { numRuns: 1000 })
  t.equal((await app.inject({ url: '/me', headers: bearer(encode('x')) })).statusCode, 401)
  t.equal((await app.inject({ url: '/me', headers: bearer(await login(app)) })).statusCode, 200, 'still serving valid tokens')
})

test('fuzz: any login body gets 200, 400, 401, 415 or 429, and the verifier sees only well-formed credentials', async (t) => {
  let malformed = 0
  const app = await buildApp(t, {
    // Every case comes from one address: the per-address limit would answer all but the first
    // hundred with 429. The per-login limit stays on, so odd login names go through it too.
    loginThrottle: { perAddress: false },
    verifyCredentials: async (credentials) => {
      if (typeof credentials.login !== 'string' || typeof credentials.password !== 'string' || Object.keys(credentials).length !== 2) malformed++
      return null
    }
  })
  const body = fc.oneof(
    fc.jsonValue().map((value) => JSON.stringify(value)),
    fc.record({ login: fc.jsonValue(), password: fc.jsonValue() }).map((value) => JSON.stringify(value)),
    fc.string({ maxLength: 200 })
  )
  await fc.assert(fc.asyncProperty(body, fc.constantFrom('application/json', 'text/plain', 'application/x-www-form-urlencoded'), async (payload, type) => {
    const response = await app.inject({ method: 'POST', url: '/@login', headers: { 'content-type': type }, payload })
    return [200, 400, 401, 415, 429].includes(response.statusCode)
  }), { numRuns: 1500 })
  t.equal(malformed, 0, 'the verifier never saw a malformed body')
})
