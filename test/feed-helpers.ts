import Fastify, { type FastifyInstance } from 'fastify'
import jwtAuth, { memoryStore, type JwtSessionOptions, type MemoryStore } from '../lib/index'
import { bearer, SECRET, verifyCredentials } from './helpers'
import { signingKey } from './key-pairs'

/** The issuer every feed test names. */
export const ISSUER = 'https://auth.test'
/** What a reader of the test feeds must send. */
export const FEED_HEADERS = { 'x-feed-key': 'let-me-read' }

type Teardown = { teardown (fn: () => unknown): void }

/** An issuer on a loopback port, with the memory store `store` and a feed; HS256 or ES256 keys. */
export async function issuerApp (t: Teardown, store: MemoryStore, options: { keys?: boolean, port?: number, extra?: JwtSessionOptions } = {}): Promise<{ app: FastifyInstance, url: string, port: number }> {
  const app = Fastify()
  t.teardown(() => app.close())
  const keys = options.keys === true ? { keys: [signingKey('ES256')], audience: 'api' } : { secret: SECRET }
  await app.register(jwtAuth, {
    ...keys,
    issuer: ISSUER,
    renewGrace: 0,
    verifyCredentials,
    revocationStore: store,
    revocationFeed: { authorize: (request) => request.headers['x-feed-key'] === FEED_HEADERS['x-feed-key'] },
    ...options.extra
  })
  await app.listen({ port: options.port ?? 0, host: '127.0.0.1' })
  const port = (app.server.address() as { port: number }).port
  return { app, url: `http://127.0.0.1:${port}`, port }
}

/** A verify-only consumer following `issuerUrl`'s feed: HS256 with `secret` and `routes: false`, or ES256 through the issuer's JWKS. */
export async function consumerApp (t: Teardown, issuerUrl: string, mode: 'secret' | 'jwks', extra: Partial<JwtSessionOptions> = {}): Promise<FastifyInstance> {
  const app = Fastify()
  t.teardown(() => app.close())
  const keys = mode === 'jwks'
    ? { jwks: { url: `${issuerUrl}/.well-known/jwks.json` }, audience: 'api' }
    : { secret: SECRET, routes: false as const }
  await app.register(jwtAuth, {
    ...keys,
    issuer: ISSUER,
    renewGrace: 0,
    followRevocations: { url: `${issuerUrl}/@revocations`, headers: FEED_HEADERS, maxStaleness: 1 },
    ...extra
  })
  app.get('/me', { onRequest: app.authenticate }, async (request) => request.user)
  app.get('/optional', { onRequest: app.authenticateOptional }, async (request) => ({ user: request.user?.sub ?? null }))
  app.get('/jwt-verify', async (request) => {
    await request.jwtVerify()
    return { sub: request.user.sub }
  })
  await app.ready()
  return app
}

/** The status a consumer answers `token` with on `/me`. */
export async function statusOf (app: FastifyInstance, token: string): Promise<number> {
  return (await app.inject({ url: '/me', headers: bearer(token) })).statusCode
}

/** Waits (up to ~10 s) until `check` holds. */
export async function eventually (check: () => Promise<boolean> | boolean): Promise<boolean> {
  for (let turn = 0; turn < 1000; turn++) {
    if (await check()) return true
    await new Promise((resolve) => setTimeout(resolve, 10))
  }
  return false
}

/** Logs in at the issuer and answers the token. */
export async function loginAt (app: FastifyInstance, name = 'alice'): Promise<string> {
  const response = await app.inject({ method: 'POST', url: '/@login', payload: { login: name, password: name === 'alice' ? 'wonderland' : 'builder' } })
  return response.json().token
}

export { memoryStore }
