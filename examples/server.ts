import { randomBytes } from 'node:crypto'
import Fastify, { type FastifyInstance, type FastifyServerOptions } from 'fastify'
import { Redis } from 'ioredis'
import swagger from '@fastify/swagger'
import swaggerUi from '@fastify/swagger-ui'
import jwtAuth, { memoryStore, redisStore, type RevocationStore } from 'fastify-jwt-session'
import { exposeMetrics } from './metrics'
import { checkCredentials, findUser } from './users'

/** The example's settings, from the environment (see the README). */
export interface ServerEnv {
  PORT?: string
  HOST?: string
  JWT_SECRET?: string
  JWT_EXPIRES_IN?: string
  JWT_MAX_SESSION_AGE?: string
  REDIS_URL?: string
}

/** A duration from the environment: digits alone are seconds, anything else like '12h'. */
function duration (value: string): string | number {
  return /^\d+$/.test(value) ? Number(value) : value
}

/**
 * The Redis store on a client that fails fast while Redis is away (requests get 503 at once
 * rather than wait in a queue), closed with the app; the memory store without `REDIS_URL`.
 */
function storeFor (app: FastifyInstance, env: ServerEnv): RevocationStore {
  if (env.REDIS_URL === undefined || env.REDIS_URL === '') return memoryStore()
  const client = new Redis(env.REDIS_URL, { enableOfflineQueue: false, maxRetriesPerRequest: 1, connectTimeout: 1000, commandTimeout: 1000 })
  client.on('error', (error) => app.log.warn({ err: error }, 'Redis connection error'))
  // quit() waits for pending replies, and fails while the client is reconnecting: then just drop it.
  app.addHook('onClose', async () => { await client.quit().catch(() => client.disconnect()) })
  return redisStore({ client })
}

/**
 * Builds the example server: the plugin's routes, `GET /protected` for any valid token,
 * `GET /admin` for role `admin`, and Swagger UI at `/docs`. The store comes from `REDIS_URL`
 * unless one is given.
 */
export async function buildServer (env: ServerEnv = {}, revocationStore?: RevocationStore, options: FastifyServerOptions = {}): Promise<FastifyInstance> {
  const app = Fastify({ logger: true, ...options })
  let secret = env.JWT_SECRET
  if (secret === undefined || secret === '') {
    secret = randomBytes(32).toString('base64url')
    app.log.warn('JWT_SECRET is not set: using a random secret, so tokens die with this process')
  }

  // The OpenAPI document is built from the routes' own schemas; the bearer scheme gives
  // Swagger UI its Authorize button (paste a token from /@login there).
  await app.register(swagger, {
    openapi: {
      info: { title: 'fastify-jwt-session example', version: '1.0.0' },
      components: { securitySchemes: { bearerAuth: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' } } },
      security: [{ bearerAuth: [] }]
    }
  })
  await app.register(jwtAuth, {
    secret,
    expiresIn: duration(env.JWT_EXPIRES_IN ?? '12h'),
    maxSessionAge: duration(env.JWT_MAX_SESSION_AGE ?? '7d'),
    verifyCredentials: checkCredentials,
    loadUser: async (claims) => await findUser(claims.sub),
    revocationStore: revocationStore ?? storeFor(app, env),
    // The defaults, spelt out: 10 failed logins per name and 100 per address in 15 minutes,
    // then 429. Counted in Redis with REDIS_URL, so every instance shares them. Behind a
    // proxy, set Fastify's trustProxy so that request.ip is the client's address.
    loginThrottle: { perLogin: { max: 10, window: '15m' }, perAddress: { max: 100, window: '15m' } }
  })

  // Swagger UI's own routes come after the plugin: routes declared before it loads are named
  // in a warning (see "Use it" in the README).
  await app.register(swaggerUi, { routePrefix: '/docs' })

  // Hooks in an array: had the plugin not loaded yet, Fastify would refuse the route.
  app.get('/protected', { onRequest: [app.authenticate] }, async (request) => ({ status: 'ok', user: request.user.sub }))
  app.get('/admin', { onRequest: [app.requireRoles('admin')] }, async (request) => ({ status: 'ok', user: request.user.sub }))
  // A readiness probe: 503 whenever authenticated requests would answer 503.
  app.get('/health', async (_request, reply) => {
    const health = app.jwtAuth.health()
    return await reply.code(health.ready ? 200 : 503).send(health)
  })
  exposeMetrics(app)
  return app
}

/** Starts the server as `npm start` does. */
export async function start (env: ServerEnv = process.env): Promise<FastifyInstance> {
  const app = await buildServer(env)
  await app.listen({ port: Number(env.PORT ?? 3000), host: env.HOST ?? '127.0.0.1' })
  return app
}

if (require.main === module) {
  start().catch((error: unknown) => {
    console.error(error)
    process.exit(1)
  })
}
