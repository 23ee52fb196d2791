import { createHash, generateKeyPairSync, timingSafeEqual } from 'node:crypto'
import Fastify, { type FastifyInstance } from 'fastify'
import jwtAuth, { memoryStore, type JwtKey, type MemoryStore } from 'fastify-jwt-session'
import { checkCredentials, findUser } from '../users'

/** The header other services send their feed credential in. */
export const FEED_KEY_HEADER = 'x-feed-key'

/**
 * The one service that signs: it checks passwords, issues ES256 tokens, publishes the public
 * key at `/.well-known/jwks.json`, and publishes every logout at `GET /@revocations` (the
 * revocation feed) for the services that only verify. A real deployment loads its private key
 * from a secret store; the example makes one at start-up.
 *
 * The feed is read by services, not users: `authorize` admits a request whose `x-feed-key`
 * header holds `feedKey` (the `FEED_KEY` environment variable of start.ts), compared in
 * constant time. Anything else gets 403.
 */
export async function buildUserService (options: { feedKey: string, key?: JwtKey, revocationStore?: MemoryStore }): Promise<FastifyInstance> {
  const app = Fastify({ logger: { level: 'info' } })
  const expected = digest(options.feedKey)
  await app.register(jwtAuth, {
    keys: [options.key ?? makeKey()],
    issuer: 'http://users.example',
    audience: 'http://api.example',
    expiresIn: '15m',
    verifyCredentials: checkCredentials,
    loadUser: async (claims) => await findUser(claims.sub),
    // The memory store keeps a history of its changes: what the feed serves.
    revocationStore: options.revocationStore ?? memoryStore(),
    revocationFeed: {
      authorize: (request) => {
        const given = request.headers[FEED_KEY_HEADER]
        return typeof given === 'string' && timingSafeEqual(digest(given), expected)
      }
    }
  })
  return app
}

/** Equal-length digests, so that the comparison takes the same time whatever the key given. */
function digest (value: string): Buffer {
  return createHash('sha256').update(value).digest()
}

/** A fresh ES256 key pair, named by the day it was made (the kid rotation goes by). */
export function makeKey (): JwtKey {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' })
  return { kid: `users-${new Date().toISOString().slice(0, 10)}`, algorithm: 'ES256', privateKey, publicKey }
}
