import { test } from 'tap'
import type { FastifyInstance } from 'fastify'
import { bearer, buildApp, login } from '../helpers'
import { signingKey } from '../key-pairs'

/*
 * fastify.jwt.sign({ ...request.body }) over client-chosen sub, roles, sid, gen, auth_us
 * minted a token that passed `authenticate` as anyone. The session claims are now refused at
 * signing, and a token @fastify/jwt signs without them is no session.
 */

const SESSION_CLAIMS = ['sid', 'gen', 'auth_us', 'auth_time'] as const

/** What a client would send to a route that signs its body. */
function forgedBody (): Record<string, unknown> {
  const now = Math.floor(Date.now() / 1000)
  return { sub: 'u-alice', roles: ['admin'], jti: 'jti-0123456789abcdef', sid: 'sid-0123456789abcdef', gen: 0, auth_time: now, auth_us: now * 1_000_000 }
}

/** Routes that sign the request's body, as a careless host would, with either reply.jwtSign() style. */
function mintingRoutes (app: FastifyInstance): void {
  app.post('/mint', async (request, reply) => ({ token: await reply.jwtSign({ ...(request.body as object) }) }))
  app.post('/mint-callback', (request, reply) => {
    reply.jwtSign({ ...(request.body as object) }, (error, token) => {
      if (error !== null) return reply.send(error)
      reply.send({ token })
    })
  })
  app.get('/legacy', async (request) => (await request.jwtVerify<{ sub: string }>()).sub)
}

test('fastify.jwt.sign() refuses a payload carrying a session claim, naming it and pointing to fastify.jwtAuth.sign', async (t) => {
  const app = await buildApp(t, {}, mintingRoutes)
  t.throws(() => app.jwt.sign(forgedBody()), { name: 'TypeError', message: /sid, gen, auth_time, auth_us|sid, gen, auth_us, auth_time/ })
  t.throws(() => app.jwt.sign(forgedBody()), { message: /fastify\.jwtAuth\.sign\(user\)/ })
  for (const claim of SESSION_CLAIMS) {
    t.throws(() => app.jwt.sign({ sub: 'u-alice', [claim]: 1 }), { name: 'TypeError', message: new RegExp(`\\b${claim}\\b`) }, claim)
    t.throws(() => app.jwt.sign({ sub: 'u-alice', [claim]: 1 }, { expiresIn: 60 }), TypeError, `${claim}, with options`)
  }
  t.type(app.jwt.sign({ sub: 'u-alice', purpose: 'export' }), 'string', 'any other payload is signed')
  t.throws(() => app.jwt.sign(null as unknown as object), /missing payload/, "a payload that is no object is left to @fastify/jwt's own checks")
  t.throws(() => app.jwt.sign('a string' as unknown as object), { code: 'FAST_JWT_INVALID_TYPE' })
  t.notOk('key' in (app.jwt.options.sign as object), 'the signing key is not shown in fastify.jwt.options')
})

test("with a callback, fastify.jwt.sign() hands the refusal to it, as @fastify/jwt's own errors", async (t) => {
  const app = await buildApp(t)
  const viaCallback = await new Promise<[Error | null, string | undefined]>((resolve) => {
    app.jwt.sign(forgedBody(), (error, token) => { resolve([error, token]) })
  })
  t.type(viaCallback[0], TypeError)
  t.equal(viaCallback[1], undefined)
  const viaOptions = await new Promise<Error | null>((resolve) => {
    app.jwt.sign(forgedBody(), { expiresIn: 60 }, (error) => { resolve(error) })
  })
  t.type(viaOptions, TypeError)
  const signed = await new Promise<string | undefined>((resolve) => {
    app.jwt.sign({ purpose: 'export' }, (_error: Error | null, token?: string) => { resolve(token) })
  })
  t.type(signed, 'string', 'a payload without them is signed')
})

test('reply.jwtSign() refuses it too, in both styles, and no token leaves', async (t) => {
  const app = await buildApp(t, {}, mintingRoutes)
  for (const url of ['/mint', '/mint-callback']) {
    const minted = await app.inject({ method: 'POST', url, payload: forgedBody() })
    t.equal(minted.statusCode, 500, `${url}: the host's bug is loud`)
    t.notOk('token' in minted.json(), `${url}: no token`)
  }
  const plain = await app.inject({ method: 'POST', url: '/mint', payload: { purpose: 'export' } })
  t.equal(plain.statusCode, 200, 'a payload without session claims is signed')
})

test('with key pairs too', async (t) => {
  const app = await buildApp(t, { keys: [signingKey('ES256')] }, mintingRoutes)
  t.throws(() => app.jwt.sign(forgedBody()), TypeError)
  t.equal((await app.inject({ method: 'POST', url: '/mint', payload: forgedBody() })).statusCode, 500)
  t.equal((await app.inject({ method: 'POST', url: '/mint', payload: { purpose: 'export' } })).statusCode, 200)
})

test('a token @fastify/jwt signs without the session claims passes neither authenticate nor request.jwtVerify()', async (t) => {
  const app = await buildApp(t, {}, mintingRoutes)
  const { sid, gen, auth_us: authUs, auth_time: authTime, ...rest } = forgedBody()
  t.ok([sid, gen, authUs, authTime].every((value) => value !== undefined))
  for (const token of [app.jwt.sign(rest), (await app.inject({ method: 'POST', url: '/mint', payload: rest })).json().token as string]) {
    const admin = await app.inject({ url: '/admin', headers: bearer(token) })
    t.equal(admin.statusCode, 401)
    t.equal(admin.json().code, 'FST_JWT_SESSION_INVALID_TOKEN')
    t.equal((await app.inject({ url: '/legacy', headers: bearer(token) })).statusCode, 401)
  }
  t.equal((await app.inject({ url: '/admin', headers: bearer(await login(app)) })).statusCode, 200, 'a session token does')
})
