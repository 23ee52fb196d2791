import { test } from 'tap'
import Fastify from 'fastify'
import fastifyJwt from '@fastify/jwt'
import cookie from '@fastify/cookie'
import jwtAuth, { memoryStore, type RevocationStore } from '../lib/index'
import { SECRET, bearer, buildApp, forge, login, validClaims, verifyCredentials } from './helpers'
import { signingKey, verifyingKey } from './key-pairs'

const HOST_SECRET = 'the-host-own-secret-for-its-own-tokens!'

test('a host that registered @fastify/jwt first registers this plugin too; each verifies its own tokens', async (t) => {
  const app = Fastify()
  t.after(() => app.close())
  await app.register(fastifyJwt, { secret: HOST_SECRET, decoratorName: 'apiClient' })
  await app.register(jwtAuth, { secret: SECRET, verifyCredentials, revocationStore: memoryStore() })
  app.get('/me', { onRequest: [app.authenticate] }, async (request) => request.user.sub)
  app.get('/reports', async (request) => {
    await request.jwtVerify()
    return (request as unknown as { apiClient: { scope: string } }).apiClient.scope
  })
  await app.ready()
  const token = await login(app)
  t.equal((await app.inject({ url: '/me', headers: bearer(token) })).body, 'u-alice')
  const hostToken = app.jwt.sign({ scope: 'reports' })
  t.equal((await app.inject({ url: '/reports', headers: bearer(hostToken) })).body, 'reports', "the host's @fastify/jwt is left as it was")
  t.equal((await app.inject({ url: '/me', headers: bearer(hostToken) })).json().code, 'FST_JWT_SESSION_INVALID_TOKEN', "the host's tokens are not sessions")
})

test('a host that shares request.user with @fastify/jwt (its default) registers both, in that order', async (t) => {
  const app = Fastify()
  t.after(() => app.close())
  await app.register(fastifyJwt, { secret: HOST_SECRET })
  await app.register(jwtAuth, { secret: SECRET, verifyCredentials })
  app.get('/me', { onRequest: [app.authenticate] }, async (request) => request.user.sub)
  // The host's own check runs first and fills the shared request.user with its token's payload.
  const hostFirst = async (request: import('fastify').FastifyRequest): Promise<void> => { await request.jwtVerify().catch(() => {}) }
  app.get('/admin', { onRequest: [hostFirst, app.requireRoles('admin')] }, async (request) => request.user.sub)
  await app.ready()
  t.equal((await app.inject({ url: '/me', headers: bearer(await login(app)) })).body, 'u-alice')
  const hostToken = app.jwt.sign({ sub: 'u-alice', roles: ['admin'] })
  const forged = await app.inject({ url: '/admin', headers: bearer(hostToken) })
  t.equal(forged.statusCode, 401, "a request.user the host's @fastify/jwt set is not taken for a session")
  t.equal(forged.json().code, 'FST_JWT_SESSION_INVALID_TOKEN')
  t.equal((await app.inject({ url: '/admin', headers: bearer(await login(app)) })).body, 'u-alice')
})

test('@fastify/jwt registered after this plugin works with a namespace', async (t) => {
  const app = Fastify()
  t.after(() => app.close())
  await app.register(jwtAuth, { secret: SECRET, verifyCredentials })
  await app.register(fastifyJwt, { secret: HOST_SECRET, namespace: 'partner' })
  app.get('/partner', async (request) => {
    const verify = (request as unknown as { partnerJwtVerify: () => Promise<{ org: string }> }).partnerJwtVerify
    return (await verify.call(request)).org
  })
  await app.ready()
  const partner = (app.jwt as unknown as { partner: { sign: (payload: object) => string } }).partner
  t.equal((await app.inject({ url: '/partner', headers: bearer(partner.sign({ org: 'acme' })) })).body, 'acme')
})

test('without a @fastify/jwt of its own, the app gets fastify.jwt with the plugin\'s key and a revocation-aware request.jwtVerify()', async (t) => {
  const app = await buildApp(t, {}, (app) => {
    app.get('/legacy', async (request) => {
      const claims = await request.jwtVerify<{ sub: string }>()
      return claims.sub
    })
    app.get('/legacy/user', async (request) => {
      await request.jwtVerify()
      return { frozen: Object.isFrozen(request.user), same: request.user === await request.authenticate() }
    })
  })
  const token = await login(app)
  t.equal((await app.inject({ url: '/legacy', headers: bearer(token) })).body, 'u-alice', 'jwtVerify accepts a session token')
  t.same((await app.inject({ url: '/legacy/user', headers: bearer(token) })).json(), { frozen: true, same: true }, 'request.user is the frozen claims, as after authenticate')
  t.equal((app.jwt.verify(token) as { sub: string }).sub, 'u-alice', 'fastify.jwt.verify with the same secret')
  t.equal((app.jwt.decode(token) as { sub: string }).sub, 'u-alice')
  const signed = app.jwt.sign({ sub: 'u-bob', purpose: 'export' })
  t.equal((app.jwt.verify(signed) as { purpose: string }).purpose, 'export', 'fastify.jwt.sign signs with the plugin\'s secret')
  t.equal((await app.inject({ url: '/me', headers: bearer(signed) })).json().code, 'FST_JWT_SESSION_INVALID_TOKEN', 'but it signs no session: authenticate refuses it')
  t.equal((await app.inject({ url: '/legacy', headers: bearer(signed) })).statusCode, 401, 'nor does jwtVerify accept it')

  t.equal((await app.inject({ method: 'POST', url: '/@logout', headers: bearer(token) })).statusCode, 204)
  const revoked = await app.inject({ url: '/legacy', headers: bearer(token) })
  t.equal(revoked.statusCode, 401)
  t.equal(revoked.json().code, 'FST_JWT_SESSION_REVOKED_TOKEN', 'request.jwtVerify() honours logout')
  t.equal((await app.inject({ url: '/legacy' })).statusCode, 401, 'no token')
})

test('in cookie mode, request.jwtVerify() reads the cookie and asks for the CSRF token as authenticate does', async (t) => {
  const app = Fastify()
  t.after(() => app.close())
  await app.register(cookie)
  await app.register(jwtAuth, { secret: SECRET, verifyCredentials, revocationStore: memoryStore(), cookie: true })
  app.get('/legacy', async (request) => (await request.jwtVerify<{ sub: string }>()).sub)
  app.post('/legacy', async (request) => (await request.jwtVerify<{ sub: string }>()).sub)
  const login = await app.inject({ method: 'POST', url: '/@login', payload: { login: 'alice', password: 'wonderland' } })
  const session = String(login.headers['set-cookie']).split(';')[0] as string
  t.equal((await app.inject({ url: '/legacy', headers: { cookie: session } })).body, 'u-alice')
  t.equal((await app.inject({ method: 'POST', url: '/legacy', headers: { cookie: session } })).statusCode, 403, 'no CSRF token')
  t.equal((await app.inject({ method: 'POST', url: '/legacy', headers: { cookie: session, 'x-csrf-token': login.json().csrfToken } })).body, 'u-alice')
})

test('request.jwtVerify() fails closed with 503 when the store fails', async (t) => {
  const down = (): never => { throw new Error('down') }
  const failing: RevocationStore = { session: down, subject: down, renew: down, end: down, endSubject: down }
  const app = await buildApp(t, { revocationStore: failing, routes: false }, (app) => {
    app.get('/legacy', async (request) => (await request.jwtVerify<{ sub: string }>()).sub)
  })
  const response = await app.inject({ url: '/legacy', headers: bearer(app.jwtAuth.sign({ sub: 'u-alice' })) })
  t.equal(response.statusCode, 503)
  t.equal(response.json().code, 'FST_JWT_SESSION_STORE_UNAVAILABLE')
})

test('with key pairs, fastify.jwt signs with the signing key and verifies with any configured key, by kid', async (t) => {
  const app = await buildApp(t, { keys: [signingKey('ES256', 'new'), verifyingKey('EdDSA', 'old')], issuer: 'https://id.example', audience: 'shop' }, (app) => {
    app.get('/legacy', async (request) => (await request.jwtVerify<{ sub: string }>()).sub)
  })
  const token = await login(app)
  t.equal((await app.inject({ url: '/legacy', headers: bearer(token) })).body, 'u-alice')
  t.equal((await (app.jwt.verify(token) as unknown as Promise<{ sub: string }>)).sub, 'u-alice')
  const unknownKid = app.jwt.sign({ sub: 'x' }, { kid: 'nobody' })
  t.equal((await app.inject({ url: '/legacy', headers: bearer(unknownKid) })).statusCode, 401, 'a kid no key has is refused')
  await t.rejects(app.jwt.verify(unknownKid) as unknown as Promise<unknown>)
  const noKid = forge({ alg: 'ES256', typ: 'JWT' }, validClaims())
  t.equal((await app.inject({ url: '/legacy', headers: bearer(noKid) })).statusCode, 401, 'a token with no kid is refused')
})

test('a verify-only service with public keys gets fastify.jwt to verify; one against a JWKS URL gets none', async (t) => {
  const keysOnly = await buildApp(t, { keys: [verifyingKey('ES256')], verifyCredentials: undefined })
  t.type(keysOnly.jwt.verify, 'function')
  t.throws(() => keysOnly.jwt.sign({ sub: 'x' }), /unable to sign/)
  const remote = await buildApp(t, { jwks: { url: 'https://id.example/.well-known/jwks.json' }, audience: 'shop', verifyCredentials: undefined })
  t.equal(remote.hasDecorator('jwt'), false)
})

test('a second registration is refused with a message that names the plugin', async (t) => {
  const app = Fastify()
  t.after(() => app.close())
  await app.register(jwtAuth, { secret: SECRET, verifyCredentials })
  await t.rejects(async () => { await app.register(jwtAuth, { secret: SECRET, verifyCredentials }) }, /fastify-jwt-session is already registered/)
})
