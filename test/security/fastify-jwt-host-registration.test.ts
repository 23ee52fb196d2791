import { test } from 'tap'
import { Writable } from 'node:stream'
import Fastify, { type FastifyInstance } from 'fastify'
import fastifyJwt, { type FastifyJWTOptions } from '@fastify/jwt'
import jwtAuth, { memoryStore, type JwtSessionOptions } from '../../lib/index'
import { SECRET, bearer, login, verifyCredentials } from '../helpers'
import { pair, signingKey } from '../key-pairs'

/*
 * A host's own @fastify/jwt registered with the plugin's key accepted retired and logged-out
 * tokens on its request.jwtVerify() routes, and nothing said so. Registration now warns.
 */

interface Built { app: FastifyInstance, warnings: string[] }

/** An app with the host's @fastify/jwt registered first, then the plugin; its warnings. */
async function hostApp (t: { teardown (fn: () => unknown): void }, host: FastifyJWTOptions, options: JwtSessionOptions = { secret: SECRET }): Promise<Built> {
  const lines: Array<{ level: number, msg: string }> = []
  const app = Fastify({ logger: { level: 'warn', stream: new Writable({ write (chunk, _encoding, callback) { lines.push(JSON.parse(String(chunk))); callback() } }) } })
  t.teardown(() => app.close())
  await app.register(fastifyJwt, host)
  await app.register(jwtAuth, { verifyCredentials, revocationStore: memoryStore(), ...options })
  app.get('/host', async (request) => { await request.jwtVerify(); return 'ok' })
  await app.ready()
  return { app, warnings: lines.filter((line) => line.level === 40).map((line) => line.msg) }
}

const RISK = /@fastify\/jwt.*verifies with this plugin's key.*request\.authenticate\(\)/

test("a host's @fastify/jwt with the plugin's secret is warned about, in one line that does not leak the secret", async (t) => {
  const { app, warnings } = await hostApp(t, { secret: SECRET })
  t.equal(warnings.length, 1)
  t.match(warnings[0], RISK)
  t.notOk(warnings[0]?.includes(SECRET), 'the secret is not logged')
  // What the warning is about: the host's route takes a logged-out token.
  const token = await login(app)
  t.equal((await app.inject({ method: 'POST', url: '/@logout', headers: bearer(token) })).statusCode, 204)
  t.equal((await app.inject({ url: '/host', headers: bearer(token) })).statusCode, 200, "the host's request.jwtVerify() knows nothing of the logout")
  t.equal((await app.inject({ url: '/me', headers: bearer(token) })).statusCode, 404)
})

test("the same secret under the host's verify options that accept the plugin's tokens is warned about too", async (t) => {
  const issuer = { issuer: 'https://id.example', audience: 'shop' }
  const { warnings } = await hostApp(t, { secret: SECRET, verify: { allowedIss: 'https://id.example' } }, { secret: SECRET, ...issuer })
  t.equal(warnings.length, 1)
  // Its signature check passes even where its claim checks would not (another audience).
  const other = await hostApp(t, { secret: SECRET, verify: { allowedAud: 'another-app' } }, { secret: SECRET, ...issuer })
  t.equal(other.warnings.length, 1)
})

test("a host's @fastify/jwt with the plugin's signing key pair is warned about", async (t) => {
  const { privateKey, publicKey } = pair('p256')
  const { warnings } = await hostApp(t, { secret: { private: privateKey, public: publicKey }, sign: { algorithm: 'ES256' } }, { keys: [signingKey('ES256')] })
  t.equal(warnings.length, 1)
  t.match(warnings[0], RISK)
  t.notOk(warnings[0]?.includes(privateKey.split('\n')[1] as string))
})

test('a namespaced @fastify/jwt with the plugin\'s secret is warned about', async (t) => {
  const { warnings } = await hostApp(t, { secret: SECRET, namespace: 'partner' })
  t.equal(warnings.length, 1)
  t.match(warnings[0], /fastify\.jwt\.partner/)
})

test("a host's @fastify/jwt with its own key, or one that refuses the plugin's algorithm, is not warned about", async (t) => {
  t.same((await hostApp(t, { secret: 'the-host-own-secret-for-its-own-tokens!' })).warnings, [])
  t.same((await hostApp(t, { secret: SECRET, verify: { algorithms: ['HS512'] } })).warnings, [], "the plugin signs HS256: the host's verify refuses its tokens")
  const { privateKey, publicKey } = pair('p256b')
  t.same((await hostApp(t, { secret: { private: privateKey, public: publicKey }, sign: { algorithm: 'ES256' } }, { keys: [signingKey('ES256')] })).warnings, [])
  t.same((await hostApp(t, { secret: SECRET, namespace: 'partner' }, { secret: 'another-secret-of-at-least-32-bytes-yes' })).warnings, [])
})

test('a verify-only plugin has nothing to compare with and warns about nothing', async (t) => {
  const { publicKey } = pair('p256')
  const { warnings } = await hostApp(t, { secret: { public: publicKey } }, { keys: [{ kid: 'k', algorithm: 'ES256', publicKey }], verifyCredentials: undefined })
  t.same(warnings, [])
})

test('a jwt decorator that is not @fastify/jwt, or that does not answer, is left alone', async (t) => {
  const decorated = async (value: unknown): Promise<string[]> => {
    const lines: Array<{ level: number, msg: string }> = []
    const app = Fastify({ logger: { level: 'warn', stream: new Writable({ write (chunk, _encoding, callback) { lines.push(JSON.parse(String(chunk))); callback() } }) } })
    t.teardown(() => app.close())
    app.decorate('jwt', value as never)
    await app.register(jwtAuth, { secret: SECRET, verifyCredentials })
    await app.ready()
    return lines.filter((line) => line.level === 40).map((line) => line.msg)
  }
  t.same(await decorated(null), [])
  t.same(await decorated({ verify: () => { throw new Error('not a token of ours') } }), [], 'an error that is not fast-jwt\'s says nothing')
  t.same(await decorated({ verify: () => { throw null } }), []) // eslint-disable-line no-throw-literal
  t.same(await decorated({ verify: async () => await new Promise(() => {}) }), [], 'a verifier that never answers does not hold the start up')
  t.same(await decorated({ partner: { verify: () => ({ sub: 'x' }) }, other: null }), ["fastify-jwt-session: the app's own @fastify/jwt (fastify.jwt.partner) verifies with this plugin's key: its request.jwtVerify() and verify() accept this plugin's tokens without the revocation store or the session checks (a logged-out or retired token passes there), and its sign() can mint tokens this plugin accepts; authenticate such routes with request.authenticate() or fastify.authenticate, and give @fastify/jwt a key of its own (or do not register it: this plugin then offers it, revocation-aware)"])
})
