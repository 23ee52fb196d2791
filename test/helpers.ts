import { createHmac } from 'node:crypto'
import Fastify, { type FastifyInstance, type LightMyRequestResponse } from 'fastify'
import FakeTimers from '@sinonjs/fake-timers'
import jwtAuth, { memoryStore, type CredentialsSchema, type JwtSessionOptions, type SessionUser } from '../lib/index'

declare module '../index' {
  // The extra claims the test users carry, typed as a host would type its own.
  interface SessionExtraClaims {
    fullname?: string
    tenant?: string
  }
}

/** A 32-byte secret, as HS256 needs. */
export const SECRET = 'a-test-secret-of-at-least-32-bytes!!'

/** The users every test app knows: login -> [password, user]. */
export const USERS: Record<string, [string, SessionUser]> = {
  alice: ['wonderland', { sub: 'u-alice', roles: ['admin'], claims: { fullname: 'Alice Liddell' } }],
  bob: ['builder', { sub: 'u-bob', roles: ['user'] }]
}

/** The credential check of every test app. */
export async function verifyCredentials ({ login, password }: { login: string, password: string }): Promise<SessionUser | null> {
  const entry = USERS[login]
  return entry !== undefined && entry[0] === password ? entry[1] : null
}

/**
 * A real Fastify app with the plugin (the test secret unless `keys` or `jwks` is given), a memory store, `/me` (any valid token) and
 * `/admin` (role admin), and whatever `extend` adds. Closed after the test.
 */
export async function buildApp<Schema extends CredentialsSchema = CredentialsSchema> (
  t: { teardown (fn: () => unknown): void },
  options: JwtSessionOptions<Schema> = {},
  extend: (app: FastifyInstance) => void = () => {}
): Promise<FastifyInstance> {
  const app = Fastify()
  t.teardown(() => app.close())
  const secret = options.keys === undefined && options.jwks === undefined ? { secret: SECRET } : {}
  await app.register(jwtAuth, { ...secret, verifyCredentials, revocationStore: memoryStore(), ...options as unknown as JwtSessionOptions })
  app.get('/me', { onRequest: app.authenticate }, async (request) => request.user)
  app.get('/admin', { onRequest: [app.authenticate, app.requireRoles('admin')] }, async (request) => ({ sub: request.user.sub }))
  extend(app)
  await app.ready()
  return app
}

/** Renews `token` through the route and answers the response. */
export async function renew (app: FastifyInstance, token: string): Promise<LightMyRequestResponse> {
  return await app.inject({ method: 'POST', url: '/@login-renew', headers: bearer(token) })
}

/**
 * Renews `token` `times` times in a row, each time the token just issued; throws at a renewal
 * that is not 200. A session's newest token is renewed at most once a second: `clock` (from
 * {@link fakeClock}) is moved on by a second before each renewal.
 */
export async function renewChain (app: FastifyInstance, token: string, times: number, clock?: { tick (ms: number): unknown }): Promise<string> {
  for (let index = 0; index < times; index++) {
    clock?.tick(1_001)
    const response = await renew(app, token)
    if (response.statusCode !== 200) throw new Error(`renewal ${index}: ${response.statusCode} ${response.body}`)
    token = response.json().token
  }
  return token
}

/** Logs in through the route and answers the token. */
export async function login (app: FastifyInstance, name = 'alice'): Promise<string> {
  const entry = USERS[name] as [string, SessionUser]
  const response = await app.inject({ method: 'POST', url: '/@login', payload: { login: name, password: entry[0] } })
  if (response.statusCode !== 200) throw new Error(`login failed: ${response.statusCode} ${response.body}`)
  return response.json().token
}

/**
 * Signs a token for a test user through `fastify.jwtAuth`, without the login route: for
 * stores that cannot count a login attempt (Redis down, a read-only replica).
 */
export async function issue (app: FastifyInstance, name = 'alice'): Promise<string> {
  return await app.jwtAuth.sign((USERS[name] as [string, SessionUser])[1])
}

/** Headers carrying `token` as a Bearer credential. */
export function bearer (token: string): Record<string, string> {
  return { authorization: `Bearer ${token}` }
}

/** base64url of a JSON value (or of a raw string). */
export function encode (value: unknown): string {
  return Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)).toString('base64url')
}

/** The decoded payload of a token, unverified. */
export function decodePayload (token: string): Record<string, any> {
  return JSON.parse(Buffer.from(token.split('.')[1] as string, 'base64url').toString())
}

/** The decoded header of a token, unverified. */
export function decodeHeader (token: string): Record<string, any> {
  return JSON.parse(Buffer.from(token.split('.')[0] as string, 'base64url').toString())
}

/** Signs any header and payload with an HMAC key, as an attacker holding the key (or a bug) would. */
export function forge (header: unknown, payload: unknown, key: string | Buffer = SECRET, hash = 'sha256'): string {
  const input = `${encode(header)}.${encode(payload)}`
  return `${input}.${createHmac(hash, key).update(input).digest('base64url')}`
}

/** Claims a valid token of ours carries, issued now, for forging variants of it. */
export function validClaims (overrides: Record<string, unknown> = {}): Record<string, unknown> {
  const now = Math.floor(Date.now() / 1000)
  // The login time in microseconds follows an overridden auth_time, unless it is overridden too.
  const authTime = typeof overrides.auth_time === 'number' ? overrides.auth_time : now
  return { sub: 'u-alice', roles: ['admin'], iat: now, exp: now + 3600, jti: 'jti-0123456789abcdef', sid: 'sid-0123456789abcdef', auth_time: now, auth_us: authTime * 1_000_000 + 123_456, gen: 0, ...overrides }
}

/**
 * Fakes `Date` only (timers stay real, so Fastify and the store keep working), from a whole
 * second so that `iat` is exactly the start; undone after the test.
 */
export function fakeClock (t: { teardown (fn: () => unknown): void }, now = Math.floor(Date.now() / 1000) * 1000): ReturnType<typeof FakeTimers.install> {
  const clock = FakeTimers.install({ now, toFake: ['Date'] })
  t.teardown(() => clock.uninstall())
  return clock
}
