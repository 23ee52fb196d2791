import { test } from 'tap'
import type { FastifyInstance } from 'fastify'
import { bearer, buildApp, decodePayload, fakeClock } from '../helpers'
import { signingKey } from '../key-pairs'

/*
 * fastify.jwt.sign() and reply.jwtSign() signed tokens that lived 1,000 times `expiresIn`:
 * @fastify/jwt was given milliseconds, which it takes as seconds and multiplies again.
 */

/** A route that signs with reply.jwtSign(), with the per-call options the body may carry. */
function signingRoute (app: FastifyInstance): void {
  app.post('/sign', async (request, reply) => {
    const { options } = (request.body ?? {}) as { options?: { expiresIn?: number | string } }
    return { token: options === undefined ? await reply.jwtSign({ purpose: 'export' }) : await reply.jwtSign({ purpose: 'export' }, options) }
  })
}

/** The lifetime of a token, in seconds. */
function lifetime (token: string): number {
  const { iat, exp } = decodePayload(token)
  return exp - iat
}

test('fastify.jwt.sign() and reply.jwtSign() tokens live exactly expiresIn', async (t) => {
  for (const [expiresIn, seconds] of [['15m', 900], [600, 600], [undefined, 43_200]] as const) {
    const app = await buildApp(t, expiresIn === undefined ? {} : { expiresIn }, signingRoute)
    t.equal(lifetime(app.jwt.sign({ purpose: 'export' })), seconds, `fastify.jwt.sign() with expiresIn ${String(expiresIn)}`)
    const signed = await app.inject({ method: 'POST', url: '/sign', payload: {} })
    t.equal(lifetime(signed.json().token), seconds, `reply.jwtSign() with expiresIn ${String(expiresIn)}`)
  }
})

test('with key pairs too', async (t) => {
  const app = await buildApp(t, { keys: [signingKey('ES256')], expiresIn: '15m' }, signingRoute)
  t.equal(lifetime(app.jwt.sign({ purpose: 'export' })), 900)
  t.equal(lifetime((await app.inject({ method: 'POST', url: '/sign', payload: {} })).json().token), 900)
})

test("a caller's own expiresIn keeps @fastify/jwt's units: a number of seconds, or a string", async (t) => {
  const app = await buildApp(t, { expiresIn: '15m' }, signingRoute)
  t.equal(lifetime(app.jwt.sign({ purpose: 'export' }, { expiresIn: 60 })), 60)
  t.equal(lifetime(app.jwt.sign({ purpose: 'export' }, { expiresIn: '2m' })), 120)
  t.equal(lifetime((await app.inject({ method: 'POST', url: '/sign', payload: { options: { expiresIn: 60 } } })).json().token), 60)
})

test('fastify.jwt.verify() refuses a token past its exp plus clockTolerance, and only then', async (t) => {
  const clock = fakeClock(t)
  const app = await buildApp(t, { expiresIn: '15m', clockTolerance: 5 }, (app) => {
    app.get('/legacy', async (request) => (await request.jwtVerify<{ sub: string }>()).sub)
  })
  const token = app.jwt.sign({ sub: 'u-alice', purpose: 'export' })
  clock.tick((900 + 4) * 1000)
  t.equal((app.jwt.verify(token) as { purpose: string }).purpose, 'export', 'within the tolerance')
  clock.tick(2 * 1000)
  t.throws(() => app.jwt.verify(token), { code: 'FAST_JWT_EXPIRED' }, 'expired past the tolerance')
  const expired = await app.inject({ url: '/legacy', headers: bearer(token) })
  t.equal(expired.statusCode, 401)
  t.equal(expired.json().code, 'FST_JWT_AUTHORIZATION_TOKEN_EXPIRED', 'request.jwtVerify() refuses it too')
})
