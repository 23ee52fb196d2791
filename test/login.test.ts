import { test } from 'tap'
import { Writable } from 'node:stream'
import Fastify from 'fastify'
import { Type } from '@sinclair/typebox'
import jwtAuth, { memoryStore, type SessionUser } from '../lib/index'
import { SECRET, USERS, bearer, buildApp, decodeHeader, decodePayload, login, verifyCredentials } from './helpers'

test('login answers a token carrying every documented claim', async (t) => {
  const app = await buildApp(t, { expiresIn: '15m' })
  const before = Math.floor(Date.now() / 1000)
  const token = await login(app)
  const header = decodeHeader(token)
  const claims = decodePayload(token)
  t.same(header, { alg: 'HS256', typ: 'JWT' }, 'no kid, jku, x5u or jwk with a secret')
  t.equal(claims.sub, 'u-alice')
  t.same(claims.roles, ['admin'])
  t.equal(claims.fullname, 'Alice Liddell', 'the verifier\'s extra claims')
  t.ok(claims.iat >= before && claims.iat <= before + 1)
  t.equal(claims.exp - claims.iat, 15 * 60, 'exp - iat equals expiresIn')
  t.equal(claims.auth_time, claims.iat, 'auth_time is the login time')
  t.match(claims.jti, /^[A-Za-z0-9_-]{22}$/, '128 random bits, base64url')
  t.match(claims.sid, /^[A-Za-z0-9_-]{22}$/)
  t.notOk('iss' in claims)
  t.notOk('aud' in claims)
  t.not(decodePayload(await login(app)).jti, claims.jti, 'each token has its own jti')
})

test('login sets iss and aud when configured, and roles default to []', async (t) => {
  const app = await buildApp(t, { issuer: 'https://id.example', audience: 'shop' })
  const claims = decodePayload(await login(app, 'bob'))
  t.equal(claims.iss, 'https://id.example')
  t.equal(claims.aud, 'shop')
  const app2 = await buildApp(t, { verifyCredentials: async () => ({ sub: 'no-roles' }) })
  t.same(decodePayload(await login(app2)).roles, [])
})

test('login signs with the configured HMAC algorithm', async (t) => {
  for (const [algorithm, secret] of [['HS384', 'k'.repeat(48)], ['HS512', 'k'.repeat(64)]] as const) {
    const app = await buildApp(t, { algorithm, secret })
    const token = await login(app)
    t.equal(decodeHeader(token).alg, algorithm)
    t.equal((await app.inject({ url: '/me', headers: bearer(token) })).statusCode, 200)
  }
})

test('an unknown user and a wrong password get byte-identical 401 answers', async (t) => {
  const app = await buildApp(t)
  const unknown = await app.inject({ method: 'POST', url: '/@login', payload: { login: 'mallory', password: 'wonderland' } })
  const wrong = await app.inject({ method: 'POST', url: '/@login', payload: { login: 'alice', password: 'guess' } })
  t.equal(unknown.statusCode, 401)
  t.equal(unknown.body, wrong.body)
  const { date: _d1, ...unknownHeaders } = unknown.headers
  const { date: _d2, ...wrongHeaders } = wrong.headers
  t.same(unknownHeaders, wrongHeaders)
  t.same(unknown.json(), { statusCode: 401, code: 'FST_JWT_SESSION_INVALID_CREDENTIALS', error: 'Unauthorized', message: 'Invalid login or password' })
  t.equal(unknown.headers['www-authenticate'], 'Bearer')
})

test('malformed login bodies are refused before the verifier is called', async (t) => {
  let calls = 0
  const app = await buildApp(t, { verifyCredentials: async (credentials) => { calls++; return await verifyCredentials(credentials) } })
  const json = { 'content-type': 'application/json' }
  const cases: Array<[string, { payload: string, headers?: Record<string, string> }, number, string]> = [
    ['a missing password', { payload: '{"login":"alice"}' }, 400, 'FST_ERR_VALIDATION'],
    ['an empty object', { payload: '{}' }, 400, 'FST_ERR_VALIDATION'],
    ['numbers for strings', { payload: '{"login":123,"password":456}' }, 400, 'FST_ERR_VALIDATION'],
    ['an array', { payload: '["alice","wonderland"]' }, 400, 'FST_ERR_VALIDATION'],
    ['null', { payload: 'null' }, 400, 'FST_ERR_VALIDATION'],
    ['an empty login', { payload: '{"login":"","password":"wonderland"}' }, 400, 'FST_ERR_VALIDATION'],
    ['an unknown field', { payload: '{"login":"alice","password":"wonderland","admin":true}' }, 400, 'FST_ERR_VALIDATION'],
    ['a __proto__ key', { payload: '{"login":"alice","password":"wonderland","__proto__":{"admin":true}}' }, 400, 'FST_ERR_CTP_INVALID_JSON_BODY'],
    ['a constructor.prototype key', { payload: '{"login":"alice","password":"x","constructor":{"prototype":{"a":1}}}' }, 400, 'FST_ERR_CTP_INVALID_JSON_BODY'],
    ['a password over 1024 characters', { payload: JSON.stringify({ login: 'alice', password: 'p'.repeat(1025) }) }, 400, 'FST_ERR_VALIDATION'],
    ['malformed JSON', { payload: '{"login":' }, 400, 'FST_ERR_CTP_INVALID_JSON_BODY'],
    ['an empty JSON body', { payload: '' }, 400, 'FST_ERR_CTP_EMPTY_JSON_BODY'],
    ['a body that is not JSON', { payload: 'login=alice&password=wonderland', headers: { 'content-type': 'application/x-www-form-urlencoded' } }, 415, 'FST_ERR_CTP_INVALID_MEDIA_TYPE'],
    ['a body over the body limit', { payload: JSON.stringify({ login: 'alice', password: 'p'.repeat(1024 * 1024) }) }, 413, 'FST_ERR_CTP_BODY_TOO_LARGE']
  ]
  for (const [name, request, status, code] of cases) {
    const response = await app.inject({ method: 'POST', url: '/@login', headers: { ...json, ...request.headers }, payload: request.payload })
    t.equal(response.statusCode, status, name)
    t.equal(response.json().code, code, name)
  }
  t.equal(calls, 0, 'the verifier never ran')
  t.equal((await app.inject({ method: 'POST', url: '/@login', payload: { login: 'alice', password: 'wonderland' } })).statusCode, 200)
  t.equal(calls, 1)
})

test('a custom credentialsSchema shapes the login body', async (t) => {
  const app = await buildApp(t, {
    credentialsSchema: Type.Object({ email: Type.String({ format: 'email' }), password: Type.String(), otp: Type.String({ pattern: '^[0-9]{6}$' }) }),
    verifyCredentials: async (credentials) => credentials.otp === '123456' ? { sub: String(credentials.email) } : null
  })
  const ok = await app.inject({ method: 'POST', url: '/@login', payload: { email: 'a@b.example', password: 'x', otp: '123456' } })
  t.equal(ok.statusCode, 200)
  t.equal(decodePayload(ok.json().token).sub, 'a@b.example')
  const bad = await app.inject({ method: 'POST', url: '/@login', payload: { email: 'a@b.example', password: 'x', otp: '12' } })
  t.equal(bad.statusCode, 400)
  t.match(bad.json().message, /^body\/otp must match pattern/)
})

/** An app whose logs are captured, with the given verifier. */
async function appWithLogs (t: { teardown (fn: () => unknown): void }, verify: (credentials: any) => Promise<SessionUser | null>): Promise<{ app: ReturnType<typeof Fastify>, logs: string[] }> {
  const logs: string[] = []
  const stream = new Writable({ write (chunk, _encoding, callback) { logs.push(String(chunk)); callback() } })
  const app = Fastify({ logger: { level: 'trace', stream } })
  t.teardown(() => app.close())
  await app.register(jwtAuth, { secret: SECRET, verifyCredentials: verify })
  return { app, logs }
}

test('a verifier that throws gives a plain 500; its message is logged, not sent', async (t) => {
  const { app, logs } = await appWithLogs(t, async () => { throw new Error('connection to users-db.internal:5432 refused') })
  const response = await app.inject({ method: 'POST', url: '/@login', payload: { login: 'alice', password: 'wonderland' } })
  t.equal(response.statusCode, 500)
  t.same(response.json(), { statusCode: 500, error: 'Internal Server Error', message: 'Internal Server Error' })
  t.notMatch(response.body, /users-db/)
  t.match(logs.join(''), /users-db\.internal:5432 refused/, 'the cause reaches the log')
  t.notMatch(logs.join(''), /wonderland/, 'the password reaches no log line')
})

test('a verifier answering a malformed user gives a plain 500', async (t) => {
  const malformed: unknown[] = [
    { sub: '' },
    { sub: 42 },
    'u-alice',
    { sub: 'u', roles: 'admin' },
    { sub: 'u', roles: [1] },
    { sub: 'u', claims: [] },
    { sub: 'u', claims: { exp: 9999999999 } },
    { sub: 'u', claims: { sub: 'root' } },
    { sub: 'u', claims: { roles: ['admin'] } }
  ]
  for (const user of malformed) {
    const { app, logs } = await appWithLogs(t, async () => user as SessionUser)
    const response = await app.inject({ method: 'POST', url: '/@login', payload: { login: 'alice', password: 'wonderland' } })
    t.equal(response.statusCode, 500, JSON.stringify(user))
    t.equal(response.json().message, 'Internal Server Error')
    t.match(logs.join(''), /session user|sub|roles|claims/, 'the reason is logged')
  }
})

test('every user of the helpers logs in', async (t) => {
  const app = await buildApp(t)
  for (const name of Object.keys(USERS)) t.equal(decodePayload(await login(app, name)).sub, USERS[name]?.[1].sub)
})

test('with a store, a verifier answering a user with no string sub is still a plain 500, never a store call', async (t) => {
  const store = memoryStore()
  const asked: unknown[] = []
  const app = await buildApp(t, {
    revocationStore: { ...store, session: (sid) => store.session(sid), subject: (sub) => { asked.push(sub); return store.subject(sub) }, renew: store.renew, end: store.end, endSubject: store.endSubject },
    verifyCredentials: async () => ({ sub: 42 }) as unknown as SessionUser
  })
  t.equal((await app.inject({ method: 'POST', url: '/@login', payload: { login: 'alice', password: 'wonderland' } })).statusCode, 500)
  t.throws(() => app.jwtAuth.sign({ sub: 42 } as unknown as SessionUser), TypeError)
  t.same(asked, [], 'the store was not asked about a sub that is no string')
})
