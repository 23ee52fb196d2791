/**
 * One benchmark server, in a process of its own: `BENCH_VARIANT` says which. Every variant
 * serves the same `GET /hello` with the same response schema; they differ only in what
 * guards it. Prints `listening <port>` once ready. Not part of the package.
 */
import { createPublicKey, verify, type VerifyKeyObjectInput } from 'node:crypto'
import diagnostics from 'node:diagnostics_channel'
import Fastify, { type FastifyInstance, type onRequestHookHandler } from 'fastify'
import fastifyJwt from '@fastify/jwt'
import { Redis } from 'ioredis'
import jwtAuth, { memoryStore, redisStore, type JwtSessionOptions } from 'fastify-jwt-session'
import { FEED_ISSUER as BENCH_ISSUER } from './feed-issuer'

const HELLO = {
  schema: { response: { 200: { type: 'object', properties: { hello: { type: 'string' } }, required: ['hello'] } } }
} as const
const LOGIN_BODY = {
  type: 'object',
  properties: { login: { type: 'string', minLength: 1, maxLength: 256 }, password: { type: 'string', minLength: 1, maxLength: 1024 } },
  required: ['login', 'password'],
  additionalProperties: false
} as const

const env = process.env
const secret = env.BENCH_SECRET as string
const hello = async (): Promise<{ hello: string }> => ({ hello: 'world' })

/** The plugin, with the options the variant changes. */
async function withPlugin (app: FastifyInstance, options: JwtSessionOptions): Promise<void> {
  await app.register(jwtAuth, {
    verifyCredentials: async ({ login }) => ({ sub: login }),
    revocationStore: memoryStore(),
    ...(options.keys === undefined ? { secret } : {}),
    ...options
  })
  app.get('/hello', { ...HELLO, onRequest: app.authenticate }, hello)
}

async function redisClient (app: FastifyInstance): Promise<Redis> {
  const client = new Redis(env.REDIS_URL as string, { enableOfflineQueue: false, maxRetriesPerRequest: 1 })
  await new Promise((resolve) => client.once('ready', resolve))
  app.addHook('onClose', async () => { client.disconnect() })
  return client
}

/** Every channel the plugin publishes on (README, "diagnostics_channel events"). */
const CHANNELS = ['login', 'login-failed', 'renew', 'reuse', 'logout', 'refused', 'store', 'store-call']

/**
 * A no-op listener on every channel: what an operator's metrics cost the hot path. A valid
 * token publishes nothing, so the difference from the hot row is the checks that find a
 * subscriber, and nothing else.
 */
function subscribeAll (): void {
  for (const name of CHANNELS) diagnostics.subscribe(`fastify-jwt-session:${name}`, () => {})
}

const es256 = (): JwtSessionOptions['keys'] => [{ kid: 'bench', algorithm: 'ES256', privateKey: env.BENCH_ES256_PRIVATE as string, publicKey: env.BENCH_ES256_PUBLIC as string }]
const eddsa = (): JwtSessionOptions['keys'] => [{ kid: 'bench', algorithm: 'EdDSA', privateKey: env.BENCH_EDDSA_PRIVATE as string, publicKey: env.BENCH_EDDSA_PUBLIC as string }]

/**
 * The floor of an asymmetric token: an onRequest hook (callback style, as the plugin's) that
 * splits the Bearer token and checks its signature with `crypto.verify` and the same public
 * key, parsed once; no decoding, no header or claims checks, no cache, no store. ES256
 * signatures are r || s (`ieee-p1363`); Ed25519 takes no digest.
 */
function verifyOnly (publicKey: string, digest: string | null): onRequestHookHandler {
  const key: VerifyKeyObjectInput = { key: createPublicKey(publicKey), ...(digest === null ? {} : { dsaEncoding: 'ieee-p1363' as const }) }
  const unauthorized = Object.assign(new Error('Unauthorized'), { statusCode: 401 })
  return (request, _reply, done) => {
    const header = request.headers.authorization ?? ''
    const token = header.startsWith('Bearer ') ? header.slice(7) : ''
    const dot = token.lastIndexOf('.')
    if (dot < 0 || !verify(digest, Buffer.from(token.slice(0, dot)), key, Buffer.from(token.slice(dot + 1), 'base64url'))) return done(unauthorized)
    done()
  }
}

const variants: Record<string, (app: FastifyInstance) => Promise<void>> = {
  bare: async (app) => { app.get('/hello', HELLO, hello) },
  // The floor of any auth hook: Fastify running a callback-style onRequest hook that does nothing.
  'noop-hook': async (app) => {
    app.get('/hello', { ...HELLO, onRequest: (_request, _reply, done) => { done() } }, hello)
  },
  // What users write today: @fastify/jwt and a hook calling request.jwtVerify().
  'fastify-jwt': async (app) => {
    await app.register(fastifyJwt, { secret })
    app.get('/hello', { ...HELLO, onRequest: async (request) => { await request.jwtVerify() } }, hello)
  },
  'fastify-jwt-login': async (app) => {
    await app.register(fastifyJwt, { secret, sign: { expiresIn: '12h' } })
    app.post<{ Body: { login: string } }>('/@login', { schema: { body: LOGIN_BODY } }, async (request, reply) => ({ token: await reply.jwtSign({ sub: request.body.login }) }))
  },
  hs256: async (app) => { await withPlugin(app, {}) },
  'hs256-subscribed': async (app) => { subscribeAll(); await withPlugin(app, {}) },
  // The login route without counting attempts: what the throttle costs a successful login.
  'hs256-nothrottle': async (app) => { await withPlugin(app, { loginThrottle: false }) },
  // The login route on a store without the session registry: what the registry costs a login.
  'hs256-noregistry': async (app) => { await withPlugin(app, { revocationStore: { ...memoryStore(), registry: undefined } }) },
  'hs256-nocache': async (app) => { await withPlugin(app, { cacheSize: 0 }) },
  es256: async (app) => { await withPlugin(app, { keys: es256() }) },
  'es256-nocache': async (app) => { await withPlugin(app, { keys: es256(), cacheSize: 0 }) },
  'es256-verify-only': async (app) => {
    app.get('/hello', { ...HELLO, onRequest: verifyOnly(env.BENCH_ES256_PUBLIC as string, 'sha256') }, hello)
  },
  eddsa: async (app) => { await withPlugin(app, { keys: eddsa() }) },
  'eddsa-verify-only': async (app) => {
    app.get('/hello', { ...HELLO, onRequest: verifyOnly(env.BENCH_EDDSA_PUBLIC as string, null) }, hello)
  },
  // The same tokens with an `iss`, on a memory store: the reference of the follower's row.
  'iss-memory': async (app) => { await withPlugin(app, { issuer: BENCH_ISSUER }) },
  // A verify-only service following an issuer's feed (the issuer in this process too, idle but for its heartbeats).
  'iss-follower': async (app) => {
    const issuer = Fastify({ logger: false })
    await issuer.register(jwtAuth, { secret, issuer: BENCH_ISSUER, verifyCredentials: async () => null, revocationStore: memoryStore(), revocationFeed: { authorize: () => true } })
    await issuer.listen({ port: 0, host: '127.0.0.1' })
    app.addHook('onClose', async () => { await issuer.close() })
    await app.register(jwtAuth, { secret, issuer: BENCH_ISSUER, routes: false, followRevocations: { url: `http://127.0.0.1:${(issuer.server.address() as { port: number }).port}/@revocations` } })
    app.get('/hello', { ...HELLO, onRequest: app.authenticate }, hello)
  },
  'redis-mirror': async (app) => {
    const store = redisStore({ client: await redisClient(app) })
    await store.ready()
    await withPlugin(app, { revocationStore: store })
  },
  // The login route on the Redis store and its session registry, without the throttle's counting (its own row).
  'redis-login': async (app) => {
    const store = redisStore({ client: await redisClient(app) })
    await store.ready()
    await withPlugin(app, { revocationStore: store, loginThrottle: false })
  },
  'redis-lookup': async (app) => { await withPlugin(app, { revocationStore: redisStore({ client: await redisClient(app), mode: 'lookup' }) }) },
  // The soak: a bounded store that fills up, so that its bound is what RSS shows.
  soak: async (app) => {
    await withPlugin(app, { revocationStore: memoryStore({ maxEntries: 20_000 }) })
    app.get('/rss', async () => ({ rss: process.memoryUsage().rss }))
  }
}

/**
 * `process.nextTick` calls made before `listen`, in every server alike. On Node 20, V8's
 * feedback for `process.nextTick` sometimes turns megamorphic in a server that loads more
 * code before an awaited `register`, which adds 4-5 µs to every request in Node's own stream
 * code: bare servers rarely hit it, plugin servers often, so an unequal run measures V8 and
 * not the plugin. This many calls, in batches as a server makes them, put every server tried
 * into the same (optimized) state. `BENCH_NEXTTICK_WARMUP=0` turns it off, to see the trap.
 * On Node 24 the trap was not seen: in a short A/B (bare and the hot HS256 row, 6 servers each
 * with the warm-up off) every server's `process.nextTick` reached TurboFan under load and the
 * hot row's CPU per request stayed level with bare's. The warm-up stays, so that every
 * version is measured alike.
 */
const NEXT_TICK_CALLS = Number(env.BENCH_NEXTTICK_WARMUP ?? 300_000)
const NEXT_TICK_BATCH = 1000

// The server runs with --allow-natives-syntax, so that it can report V8's state of `process.nextTick`.
// eslint-disable-next-line no-new-func
const optimizationStatus = new Function('f', 'return %GetOptimizationStatus(f)') as (f: unknown) => number

/** V8's optimization status bits that matter here (v8/src/runtime/runtime.h, OptimizationStatus). */
const STATUS_BITS: Record<string, number> = { optimized: 1 << 4, maglev: 1 << 5, turbofan: 1 << 6, interpreted: 1 << 7, baseline: 1 << 15, lazy: 1 << 18 }

/** What V8 says of `process.nextTick` now: the raw status and its named bits. */
function nextTickState (): { status: number, tiers: string[] } {
  const status = optimizationStatus(process.nextTick)
  return { status, tiers: Object.keys(STATUS_BITS).filter((name) => (status & (STATUS_BITS[name] as number)) !== 0) }
}

const noop = (): void => {}

/** Calls `process.nextTick` `NEXT_TICK_CALLS` times, a batch per turn of the event loop. */
async function equalizeNextTick (): Promise<void> {
  for (let called = 0; called < NEXT_TICK_CALLS; called += NEXT_TICK_BATCH) {
    for (let index = 0; index < NEXT_TICK_BATCH; index++) {
      if (index % 2 === 0) process.nextTick(noop)
      else process.nextTick(noop, index)
    }
    await new Promise((resolve) => setImmediate(resolve))
  }
}

async function main (): Promise<void> {
  const build = variants[env.BENCH_VARIANT as string]
  if (build === undefined) throw new Error(`unknown variant ${env.BENCH_VARIANT}`)
  const app = Fastify({ logger: false })
  await build(app)
  await app.ready()
  const before = nextTickState()
  await equalizeNextTick()
  const v8 = { nextTickCalls: NEXT_TICK_CALLS, before, atListen: nextTickState() }
  await app.listen({ port: 0, host: '127.0.0.1' })
  const address = app.server.address()
  process.stdout.write(`listening ${typeof address === 'object' && address !== null ? address.port : 0} v8 ${JSON.stringify(v8)}\n`)
  process.once('SIGTERM', () => {
    // The state after the load too: a server whose `process.nextTick` was deoptimized under load shows it here.
    process.stdout.write(`stopped v8 ${JSON.stringify(nextTickState())}\n`)
    void app.close().then(() => process.exit(0))
  })
}

void main()
