import { createPublicKey, type JsonWebKey, type KeyObject } from 'node:crypto'
import { ASYMMETRIC_ALGORITHMS, type AsymmetricAlgorithm } from '../options/defaults'
import { keyMismatch } from '../options/keys'

/*
 * What a JWK from an issuer's JWKS document may verify. The algorithms come from the JWK
 * alone (RFC 8725 §3.1): its `alg`, or else its key type and curve. A token's own `alg` only
 * chooses among them, so a token can never make a key verify, or refuse, another algorithm.
 */

/** A usable key of the document: the key, and the algorithms it verifies. */
export interface JwkKey {
  readonly kid: string
  readonly key: KeyObject
  readonly algorithms: readonly AsymmetricAlgorithm[]
}

/** The algorithms of a JWK that names none, by key type and curve. */
function impliedAlgorithms (jwk: Record<string, unknown>): readonly AsymmetricAlgorithm[] {
  if (jwk.kty === 'EC' && jwk.crv === 'P-256') return ['ES256']
  if (jwk.kty === 'OKP' && jwk.crv === 'Ed25519') return ['EdDSA']
  // RFC 7518 defines both for any RSA key; an issuer that means one says so with `alg`.
  if (jwk.kty === 'RSA') return ['RS256', 'PS256']
  return []
}

/** Whether the JWK is meant for verifying signatures: `use` and `key_ops` (RFC 7517 §4.2, §4.3) allow it. */
function meantForVerifying (jwk: Record<string, unknown>): boolean {
  if (jwk.use !== undefined && jwk.use !== 'sig') return false
  return jwk.key_ops === undefined || (Array.isArray(jwk.key_ops) && jwk.key_ops.includes('verify'))
}

/**
 * The key a JWK of the document describes, or undefined for one this service cannot use: no
 * `kid`, meant for another use, an unsupported or mismatched algorithm, a private part, or
 * key material that does not parse.
 */
export function jwkKey (jwk: unknown): JwkKey | undefined {
  if (typeof jwk !== 'object' || jwk === null || Array.isArray(jwk)) return undefined
  const fields = jwk as Record<string, unknown>
  // A JWK with a private part (`d`) is a leak on the issuer's side, not a key to trust.
  if (typeof fields.kid !== 'string' || fields.kid === '' || 'd' in fields || !meantForVerifying(fields)) return undefined
  let algorithms: readonly AsymmetricAlgorithm[]
  if (fields.alg === undefined) {
    algorithms = impliedAlgorithms(fields)
  } else {
    algorithms = (ASYMMETRIC_ALGORITHMS as readonly unknown[]).includes(fields.alg) ? [fields.alg as AsymmetricAlgorithm] : []
  }
  let key: KeyObject
  try {
    key = createPublicKey({ key: fields as JsonWebKey, format: 'jwk' })
  } catch {
    return undefined
  }
  const fitting = algorithms.filter((algorithm) => keyMismatch(key, algorithm) === undefined)
  return fitting.length === 0 ? undefined : Object.freeze({ kid: fields.kid, key, algorithms: Object.freeze(fitting) })
}
