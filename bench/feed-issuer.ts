/**
 * The issuer of the feed benchmark, in a process of its own so that its CPU can be read from
 * `/proc`: a memory store holding `FEED_PREFILL` ended sessions, the login and logout routes
 * and `GET /@revocations`. `POST /bench/revoke?count=N` ends N sessions through
 * `jwtAuth.revoke`, as a logout ends them, without the HTTP cost of N logouts: what the feed
 * costs per revocation is then what this process spends beyond that. Prints `listening <port>`
 * once ready. Not part of the package.
 */
import { randomBytes } from 'node:crypto'
import Fastify from 'fastify'
import jwtAuth, { memoryStore, type SessionClaims } from 'fastify-jwt-session'

const env = process.env
const PREFILL = Number(env.FEED_PREFILL ?? 0)
/** The issuer the consumers name. */
export const FEED_ISSUER = 'https://issuer.bench'

async function main (): Promise<void> {
  const store = memoryStore({ maxEntries: PREFILL + 1_000_000 })
  const expiresAt = Math.floor(Date.now() / 1000) + 43_200
  for (let index = 0; index < PREFILL; index++) store.end(randomBytes(16).toString('base64url'), expiresAt)
  const app = Fastify({ logger: false })
  await app.register(jwtAuth, {
    secret: env.BENCH_SECRET as string,
    issuer: FEED_ISSUER,
    verifyCredentials: async ({ login }) => ({ sub: login }),
    revocationStore: store,
    loginThrottle: false,
    revocationFeed: { authorize: () => true }
  })
  const now = Math.floor(Date.now() / 1000)
  const claims = { jti: 'j', sub: 'u', iat: now, exp: now + 43_200, auth_time: now, auth_us: now * 1e6, gen: 0, roles: [] }
  app.post<{ Querystring: { count: string } }>('/bench/revoke', async (request) => {
    const count = Number(request.query.count)
    for (let index = 0; index < count; index++) {
      await app.jwtAuth.revoke({ ...claims, sid: randomBytes(16).toString('base64url') } as unknown as SessionClaims)
    }
    return { revoked: count }
  })
  await app.listen({ port: 0, host: '127.0.0.1' })
  process.stdout.write(`listening ${(app.server.address() as { port: number }).port}\n`)
  process.once('SIGTERM', () => { void app.close().then(() => process.exit(0)) })
}

if (env.BENCH_FEED_ISSUER === '1') void main()
