import { test } from 'tap'
import Fastify from 'fastify'
import jwtAuth, { ForbiddenError, InvalidTokenError, memoryStore } from '../lib/index'
import { SECRET, bearer, buildApp, decodePayload, login, verifyCredentials } from './helpers'

test('a valid token authenticates, in onRequest, and request.user holds its claims', async (t) => {
  const app = await buildApp(t)
  const token = await login(app)
  const response = await app.inject({ url: '/me', headers: bearer(token) })
  t.equal(response.statusCode, 200)
  t.same(response.json(), decodePayload(token))
})

test('the Bearer scheme is matched in any case, with one or more spaces', async (t) => {
  const app = await buildApp(t)
  const token = await login(app)
  for (const header of [`bearer ${token}`, `BEARER ${token}`, `BeArEr   ${token}`]) {
    t.equal((await app.inject({ url: '/me', headers: { authorization: header } })).statusCode, 200, header.slice(0, 9))
  }
})

test('each malformed Authorization header gets its documented 4xx, never a 5xx', async (t) => {
  const app = await buildApp(t)
  const token = await login(app)
  const [header, payload, signature] = token.split('.') as [string, string, string]
  const cases: Array<[string, string | undefined, number, string, string]> = [
    ['no header', undefined, 401, 'FST_JWT_SESSION_NO_TOKEN', 'Bearer'],
    ['an empty header', '', 401, 'FST_JWT_SESSION_NO_TOKEN', 'Bearer'],
    ['the Basic scheme', 'Basic YWxpY2U6d29uZGVybGFuZA==', 401, 'FST_JWT_SESSION_NO_TOKEN', 'Bearer'],
    ['a token with no scheme', token, 401, 'FST_JWT_SESSION_NO_TOKEN', 'Bearer'],
    ['Bearer alone', 'Bearer', 400, 'FST_JWT_SESSION_BAD_REQUEST', 'Bearer error="invalid_request"'],
    ['Bearer and a space', 'Bearer ', 400, 'FST_JWT_SESSION_BAD_REQUEST', 'Bearer error="invalid_request"'],
    ['Bearer a b', 'Bearer a b', 400, 'FST_JWT_SESSION_BAD_REQUEST', 'Bearer error="invalid_request"'],
    ['two tokens', `Bearer ${token} ${token}`, 400, 'FST_JWT_SESSION_BAD_REQUEST', 'Bearer error="invalid_request"'],
    ['a zero-width space in the token', `Bearer ${header}.${payload}\u200b.${signature}`, 400, 'FST_JWT_SESSION_BAD_REQUEST', 'Bearer error="invalid_request"'],
    ['a comma-joined header', `Bearer ${token}, Bearer ${token}`, 400, 'FST_JWT_SESSION_BAD_REQUEST', 'Bearer error="invalid_request"'],
    ['a trailing =', `Bearer ${token}=`, 401, 'FST_JWT_SESSION_INVALID_TOKEN', 'invalid_token'],
    ['standard base64 characters', `Bearer ${token.replace(/-/g, '+').replace(/_/g, '/')}x+/`, 401, 'FST_JWT_SESSION_INVALID_TOKEN', 'invalid_token'],
    ['two segments', `Bearer ${header}.${payload}`, 401, 'FST_JWT_SESSION_INVALID_TOKEN', 'invalid_token'],
    ['four segments', `Bearer ${token}.${signature}`, 401, 'FST_JWT_SESSION_INVALID_TOKEN', 'invalid_token'],
    ['garbage', 'Bearer not-a-jwt', 401, 'FST_JWT_SESSION_INVALID_TOKEN', 'invalid_token'],
    ['dots only', 'Bearer ..', 401, 'FST_JWT_SESSION_INVALID_TOKEN', 'invalid_token'],
    ['a header that is not JSON', `Bearer ${Buffer.from('{nope').toString('base64url')}.${payload}.${signature}`, 401, 'FST_JWT_SESSION_INVALID_TOKEN', 'invalid_token'],
    ['a 20 KB token', `Bearer ${'a'.repeat(20 * 1024)}.${payload}.${signature}`, 401, 'FST_JWT_SESSION_INVALID_TOKEN', 'invalid_token']
  ]
  for (const [name, authorization, status, code, challenge] of cases) {
    const response = await app.inject({ url: '/me', headers: authorization === undefined ? {} : { authorization } })
    t.equal(response.statusCode, status, name)
    t.equal(response.json().code, code, name)
    t.match(response.headers['www-authenticate'], challenge, name)
  }
})

test('the Bearer header at the edges of its character set (RFC 6750 b64token)', async (t) => {
  const app = await buildApp(t)
  const token = await login(app)
  const bad = [400, 'FST_JWT_SESSION_BAD_REQUEST'] as const
  const invalid = [401, 'FST_JWT_SESSION_INVALID_TOKEN'] as const
  const none = [401, 'FST_JWT_SESSION_NO_TOKEN'] as const
  const cases: Array<[string, string, readonly [number, string]]> = [
    // b64token's punctuation is accepted by the header, then refused by the verifier (not base64url).
    ['each b64token punctuation', 'Bearer -._~+/', invalid],
    ['a tilde alone', 'Bearer ~', invalid],
    ['padding after the token', 'Bearer a==', invalid],
    // The ASCII neighbours of b64token's ranges are outside it.
    ...['@', '[', '`', '{', ':', ',', '!', '"', '\\', '^', '|', '}', ']', '*', '%', '&', '#', '(', ';', '<', '?', "'"].map((char): [string, string, readonly [number, string]] => [`the character ${char}`, `Bearer ${token.slice(0, 20)}${char}${token.slice(20)}`, bad]),
    ['padding alone', 'Bearer =', bad],
    ['padding inside the token', 'Bearer a=b', bad],
    ['a trailing space', `Bearer ${token} `, bad],
    ['a tab inside the token', `Bearer ${token.slice(0, 20)}\t${token.slice(20)}`, bad],
    ['a Latin-1 letter in the token', `Bearer ${token.slice(0, 20)}\u00e9${token.slice(20)}`, bad],
    ['a fullwidth letter in the token', `Bearer ${token.slice(0, 20)}\uff41${token.slice(20)}`, bad],
    ['spaces only', 'Bearer    ', bad],
    // Not the Bearer scheme: no token was offered.
    ['a tab after the scheme', `Bearer\t${token}`, none],
    ['a leading space', ` Bearer ${token}`, none],
    ['the scheme run into the token', `Bearer${token}`, none],
    ['a non-ASCII letter that folds to the scheme', `Bearer\u017f ${token}`, none],
    ['the Kelvin sign in the scheme', `\u212aearer ${token}`, none]
  ]
  for (const [name, authorization, [status, code]] of cases) {
    const response = await app.inject({ url: '/me', headers: { authorization } })
    t.equal(response.statusCode, status, name)
    t.equal(response.json().code, code, name)
  }
  // The widest spelling still authenticates: any case, several spaces.
  t.equal((await app.inject({ url: '/me', headers: { authorization: `bEARER     ${token}` } })).statusCode, 200)
})

test('request.authenticate() works inside a handler and answers the claims', async (t) => {
  const app = Fastify()
  t.teardown(() => app.close())
  await app.register(jwtAuth, { secret: SECRET, verifyCredentials })
  app.get('/inline', async (request) => {
    const claims = await request.authenticate()
    return { same: claims === request.user, sub: claims.sub }
  })
  const token = await app.inject({ method: 'POST', url: '/@login', payload: { login: 'alice', password: 'wonderland' } }).then((r) => r.json().token)
  t.same((await app.inject({ url: '/inline', headers: bearer(token) })).json(), { same: true, sub: 'u-alice' })
  const refused = await app.inject({ url: '/inline', headers: bearer(`${token}x`) })
  t.equal(refused.statusCode, 401)
  t.equal(refused.json().code, 'FST_JWT_SESSION_INVALID_TOKEN')
})

test('fastify.authenticate works as a preHandler hook and at the instance level', async (t) => {
  const app = Fastify()
  t.teardown(() => app.close())
  await app.register(jwtAuth, { secret: SECRET, verifyCredentials })
  app.get('/pre', { preHandler: app.authenticate }, async (request) => ({ sub: request.user.sub }))
  await app.register(async (scoped) => {
    scoped.addHook('onRequest', scoped.authenticate)
    scoped.get('/scoped', async (request) => ({ sub: request.user.sub }))
  })
  const token = await app.inject({ method: 'POST', url: '/@login', payload: { login: 'bob', password: 'builder' } }).then((r) => r.json().token)
  t.same((await app.inject({ url: '/pre', headers: bearer(token) })).json(), { sub: 'u-bob' })
  t.same((await app.inject({ url: '/scoped', headers: bearer(token) })).json(), { sub: 'u-bob' })
  t.equal((await app.inject({ url: '/pre' })).statusCode, 401)
  t.equal((await app.inject({ url: '/scoped' })).statusCode, 401)
})

test('requireRoles answers 403 insufficient_scope unless the user has one of the roles', async (t) => {
  const app = await buildApp(t)
  const admin = await login(app, 'alice')
  const user = await login(app, 'bob')
  t.same((await app.inject({ url: '/admin', headers: bearer(admin) })).json(), { sub: 'u-alice' })
  const refused = await app.inject({ url: '/admin', headers: bearer(user) })
  t.equal(refused.statusCode, 403)
  t.same(refused.json(), { statusCode: 403, code: 'FST_JWT_SESSION_FORBIDDEN', error: 'Forbidden', message: 'The token does not grant access to this resource' })
  t.equal(refused.headers['www-authenticate'], 'Bearer error="insufficient_scope"')
  t.equal((await app.inject({ url: '/admin' })).statusCode, 401, 'no token is still a 401, not a 403')
})

test('requireRoles alone authenticates first, and accepts any of several roles', async (t) => {
  const app = Fastify()
  t.teardown(() => app.close())
  const store = memoryStore()
  await app.register(jwtAuth, { secret: SECRET, verifyCredentials, revocationStore: store })
  app.get('/staff', { onRequest: app.requireRoles('admin', 'user') }, async (request) => ({ sub: request.user.sub }))
  app.get('/auditors', { preHandler: app.requireRoles('auditor') }, async () => ({}))
  const token = await app.inject({ method: 'POST', url: '/@login', payload: { login: 'bob', password: 'builder' } }).then((r) => r.json().token)
  t.same((await app.inject({ url: '/staff', headers: bearer(token) })).json(), { sub: 'u-bob' })
  t.equal((await app.inject({ url: '/auditors', headers: bearer(token) })).statusCode, 403)
  t.equal((await app.inject({ url: '/staff', headers: { authorization: 'Bearer x.y.z' } })).statusCode, 401)
  await app.jwtAuth.revoke(decodePayload(token) as never)
  t.equal((await app.inject({ url: '/staff', headers: bearer(token) })).json().code, 'FST_JWT_SESSION_REVOKED_TOKEN')
})

test('requireRoles refuses to be built without roles', async (t) => {
  const app = await buildApp(t)
  t.throws(() => (app.requireRoles as (...roles: string[]) => unknown)(), /requireRoles needs at least one role/, 'JavaScript callers get a runtime error')
  t.throws(() => app.requireRoles(''), /requireRoles needs at least one role/)
  t.throws(() => app.requireRoles(42 as unknown as string), /requireRoles needs at least one role/)
})

test('request.user is frozen: a handler cannot change what later requests see', async (t) => {
  const app = await buildApp(t, {}, (app) => {
    app.get('/mutate', { onRequest: app.authenticate }, async (request) => {
      const attempts = [
        () => { (request.user as Record<string, unknown>).sub = 'root' },
        () => { (request.user.roles as string[]).push('admin') }
      ]
      return attempts.map((attempt) => { try { attempt(); return 'changed' } catch { return 'refused' } })
    })
  })
  const token = await login(app, 'bob')
  t.same((await app.inject({ url: '/mutate', headers: bearer(token) })).json(), ['refused', 'refused'])
  t.same((await app.inject({ url: '/me', headers: bearer(token) })).json().roles, ['user'])
})

test('fastify.jwtAuth signs, verifies and revokes outside the routes', async (t) => {
  const app = await buildApp(t)
  const token = app.jwtAuth.sign({ sub: 'svc-1', roles: ['service'], claims: { tenant: 't1' } })
  const claims = await app.jwtAuth.verify(token)
  t.equal(claims.sub, 'svc-1')
  t.equal(claims.tenant, 't1')
  t.equal((await app.inject({ url: '/me', headers: bearer(token) })).statusCode, 200)
  await t.rejects(app.jwtAuth.verify('nope'), InvalidTokenError)
  await t.rejects(app.jwtAuth.verify(42 as unknown as string), InvalidTokenError)
  await t.rejects(app.jwtAuth.verify('a'.repeat(9000)), InvalidTokenError)
  await app.jwtAuth.revoke(claims)
  await t.rejects(app.jwtAuth.verify(token), { code: 'FST_JWT_SESSION_REVOKED_TOKEN' })
  const other = app.jwtAuth.sign({ sub: 'svc-1' })
  t.equal((await app.jwtAuth.verify(other)).sub, 'svc-1')
  await app.jwtAuth.revokeSubject('svc-1')
  await t.rejects(app.jwtAuth.verify(other), { code: 'FST_JWT_SESSION_REVOKED_TOKEN' })
  t.throws(() => app.jwtAuth.sign({ sub: 'x', claims: { jti: 'mine' } }), /registered claim "jti"/)
})

test('the errors are exported classes callers can narrow on', async (t) => {
  const app = await buildApp(t)
  const error = await app.jwtAuth.verify('x.y.z').catch((e: unknown) => e)
  t.ok(error instanceof InvalidTokenError)
  t.notOk(error instanceof ForbiddenError)
  t.equal((error as { statusCode: number }).statusCode, 401)
})
