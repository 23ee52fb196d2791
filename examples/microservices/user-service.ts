import { generateKeyPairSync } from 'node:crypto'
import Fastify, { type FastifyInstance } from 'fastify'
import jwtAuth, { type JwtKey, type RevocationStore } from 'fastify-jwt-session'
import { checkCredentials, findUser } from '../users'

/**
 * The one service that signs: it checks passwords, issues ES256 tokens and publishes the
 * public key at `/.well-known/jwks.json` for every other service. A real deployment loads
 * its private key from a secret store; the example makes one at start-up.
 */
export async function buildUserService (revocationStore: RevocationStore, key: JwtKey = makeKey()): Promise<FastifyInstance> {
  const app = Fastify({ logger: { level: 'info' } })
  await app.register(jwtAuth, {
    keys: [key],
    issuer: 'http://users.example',
    audience: 'http://api.example',
    expiresIn: '15m',
    verifyCredentials: checkCredentials,
    loadUser: async (claims) => await findUser(claims.sub),
    revocationStore
  })
  return app
}

/** A fresh ES256 key pair, named by the day it was made (the kid rotation goes by). */
export function makeKey (): JwtKey {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' })
  return { kid: `users-${new Date().toISOString().slice(0, 10)}`, algorithm: 'ES256', privateKey, publicKey }
}
