import type { JsonWebKey } from 'node:crypto'
import type { ResolvedKey } from '../options/keys'

/** A public key as a JWK for the JWKS document: never any private part. */
export function toPublicJwk (key: ResolvedKey): JsonWebKey {
  return { ...key.publicKey.export({ format: 'jwk' }), kid: key.kid, alg: key.algorithm, use: 'sig' }
}
