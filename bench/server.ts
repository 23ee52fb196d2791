/**
 * One benchmark server, in a process of its own: `BENCH_VARIANT` says which. Every variant
 * serves the same `GET /hello` with the same response schema; they differ only in what
 * guards it. Prints `listening <port>` once ready. Not part of the package.
 */
import Fastify, { type FastifyInstance } from 'fastify'
import fastifyJwt from '@fastify/jwt'
import { Redis } from 'ioredis'
import jwtAuth, { memoryStore, redisStore, type JwtSessionOptions } from 'fastify-jwt-session'

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

const es256 = (): JwtSessionOptions['keys'] => [{ kid: 'bench', algorithm: 'ES256', privateKey: env.BENCH_ES256_PRIVATE as string, publicKey: env.BENCH_ES256_PUBLIC as string }]

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
  // The login route without counting attempts: what the throttle costs a successful login.
  'hs256-nothrottle': async (app) => { await withPlugin(app, { loginThrottle: false }) },
  'hs256-nocache': async (app) => { await withPlugin(app, { cacheSize: 0 }) },
  es256: async (app) => { await withPlugin(app, { keys: es256() }) },
  'es256-nocache': async (app) => { await withPlugin(app, { keys: es256(), cacheSize: 0 }) },
  'redis-mirror': async (app) => {
    const store = redisStore({ client: await redisClient(app) })
    await store.ready()
    await withPlugin(app, { revocationStore: store })
  },
  'redis-lookup': async (app) => { await withPlugin(app, { revocationStore: redisStore({ client: await redisClient(app), mode: 'lookup' }) }) },
  // The soak: a bounded store that fills up, so that its bound is what RSS shows.
  soak: async (app) => {
    await withPlugin(app, { revocationStore: memoryStore({ maxEntries: 20_000 }) })
    app.get('/rss', async () => ({ rss: process.memoryUsage().rss }))
  }
}

async function main (): Promise<void> {
  const build = variants[env.BENCH_VARIANT as string]
  if (build === undefined) throw new Error(`unknown variant ${env.BENCH_VARIANT}`)
  const app = Fastify({ logger: false })
  await build(app)
  await app.listen({ port: 0, host: '127.0.0.1' })
  const address = app.server.address()
  process.stdout.write(`listening ${typeof address === 'object' && address !== null ? address.port : 0}\n`)
  process.once('SIGTERM', () => { void app.close().then(() => process.exit(0)) })
}

void main()
