import type { FastifyInstance } from 'fastify'
import type { JsonWebKey } from 'node:crypto'
import { TAGS } from './context'
import { JwksResponse, NO_SECURITY } from './schemas'

/**
 * How long clients and proxies may keep the JWKS document. Rotation waits for it: publish a
 * new key this long before signing with it (the README gives the steps).
 */
const JWKS_MAX_AGE_SECONDS = 300

/** `GET /.well-known/jwks.json`: the public keys that verify this service's tokens. */
export function registerJwks (fastify: FastifyInstance, path: string, jwks: { keys: JsonWebKey[] }): void {
  fastify.get(path, {
    schema: {
      summary: 'The public keys that verify this service\'s tokens (RFC 7517)',
      tags: TAGS,
      security: NO_SECURITY,
      response: { 200: JwksResponse }
    }
  }, async (_request, reply) => {
    reply.header('cache-control', `public, max-age=${JWKS_MAX_AGE_SECONDS}`)
    return jwks
  })
}
