import { createHash, createHmac, type KeyObject } from 'node:crypto'
import type { KeySource } from '../options/resolved'

/*
 * What names an app to the store it shares with its other instances: a fingerprint of each of
 * its verification keys. Two instances of one app carry the same keys (during a rotation, the
 * old one beside the new), two apps carry none in common. A fingerprint reveals nothing a
 * token or the JWKS document does not already: the secret goes only through an HMAC.
 */

/** What the HMAC of a `secret` is taken over: fixed, so that every instance finds the same fingerprint. */
const SECRET_LABEL = 'fastify-jwt-session: the app that owns this store prefix'
/** An HMAC fingerprint keeps 128 bits: enough to tell apps apart, and no use to guess the secret by. */
const SECRET_FINGERPRINT_BYTES = 16

/** The members of a public JWK that RFC 7638 §3.2 hashes, by key type, in lexicographic order. */
const THUMBPRINT_MEMBERS: Readonly<Record<string, readonly string[]>> = {
  EC: ['crv', 'kty', 'x', 'y'],
  RSA: ['e', 'kty', 'n'],
  OKP: ['crv', 'kty', 'x']
}

/**
 * The RFC 7638 JWK thumbprint (SHA-256, base64url) of a public key: the hash of its required
 * members, in lexicographic order, with no whitespace.
 *
 * @example
 * ```ts
 * jwkThumbprint(createPublicKey(pem)) // 'NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs' for RFC 7638's example
 * ```
 */
export function jwkThumbprint (publicKey: KeyObject): string {
  const jwk = publicKey.export({ format: 'jwk' }) as Record<string, unknown>
  // Every key `keys` accepts is EC, RSA or OKP (options/keys.ts).
  const members = THUMBPRINT_MEMBERS[jwk.kty as string] as readonly string[]
  const canonical = JSON.stringify(Object.fromEntries(members.map((member) => [member, jwk[member]])))
  return createHash('sha256').update(canonical).digest('base64url')
}

/** The fingerprint of an HMAC secret: the HMAC-SHA-256 of a fixed label, base64url, cut to 128 bits. */
export function secretFingerprint (secret: Buffer): string {
  return createHmac('sha256', secret).update(SECRET_LABEL).digest().subarray(0, SECRET_FINGERPRINT_BYTES).toString('base64url')
}

/**
 * The fingerprints of the keys of an app that signs: its secret's, or each configured key's
 * thumbprint (the keys kept only to verify during a rotation too). None for a service that
 * only verifies (a remote JWKS, or public keys only): it shares the store of the app whose
 * tokens it verifies, and claims nothing.
 *
 * @example
 * ```ts
 * keyFingerprints(options.keySource) // one 22-character string for a secret, one per key for `keys`
 * ```
 */
export function keyFingerprints (keySource: KeySource): readonly string[] {
  if (keySource.kind === 'secret') return [secretFingerprint(keySource.secret)]
  if (keySource.kind === 'jwks' || !keySource.keys.some((key) => key.privateKey !== undefined)) return []
  return keySource.keys.map((key) => jwkThumbprint(key.publicKey))
}
