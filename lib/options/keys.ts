import { KeyObject, createPrivateKey, createPublicKey } from 'node:crypto'
import { fail, rejectUnknownKeys } from './checks'
import { ASYMMETRIC_ALGORITHMS, KEY_FIELDS, type AsymmetricAlgorithm } from './defaults'

/* The `keys` option, and what makes a key fit an algorithm (also asked of keys fetched from a JWKS). */

/** RSA keys shorter than this are refused (RFC 7518 §3.3, §3.5). */
const MIN_RSA_BITS = 2048

/** A configured key once checked: a public key, and the private one if this key signs. */
export interface ResolvedKey {
  readonly kid: string
  readonly algorithm: AsymmetricAlgorithm
  readonly publicKey: KeyObject
  readonly privateKey: KeyObject | undefined
}

/** Why a key cannot serve `algorithm`, or undefined when it can. */
export function keyMismatch (key: KeyObject, algorithm: string): string | undefined {
  const type = key.asymmetricKeyType
  // Set on every asymmetric key; a secret KeyObject never gets here.
  const details = key.asymmetricKeyDetails as NonNullable<KeyObject['asymmetricKeyDetails']>
  switch (algorithm) {
    case 'ES256':
      return type === 'ec' && details.namedCurve === 'prime256v1' ? undefined : 'ES256 needs an EC key on the P-256 curve'
    case 'RS256':
    case 'PS256':
      // A plain RSA key serves both; an RSA-PSS-only key is refused, as fast-jwt cannot import it.
      if (type !== 'rsa') return `${algorithm} needs an RSA key (an RSA-PSS-only key will not do)`
      return details.modulusLength as number >= MIN_RSA_BITS ? undefined : `${algorithm} needs an RSA key of at least ${MIN_RSA_BITS} bits, got ${details.modulusLength}`
    case 'EdDSA':
      return type === 'ed25519' ? undefined : 'EdDSA needs an Ed25519 key'
    default:
      return `algorithm must be one of ${ASYMMETRIC_ALGORITHMS.join(', ')}, got ${JSON.stringify(algorithm)}`
  }
}

/** Whether `material` parses as a private key: then it does not belong where a public one goes. */
function isPrivateKeyMaterial (material: unknown): boolean {
  if (material instanceof KeyObject) return material.type === 'private'
  try {
    createPrivateKey(material as string)
    return true
  } catch {
    return false
  }
}

/** A configured key of the given type, or an `OptionError` naming it. */
function toKey (material: unknown, type: 'public' | 'private', name: string): KeyObject {
  if (type === 'public' && isPrivateKeyMaterial(material)) fail(`${name}.publicKey is a private key: give the public key`)
  try {
    const key = material instanceof KeyObject ? material : type === 'public' ? createPublicKey(material as string) : createPrivateKey(material as string)
    // Caught just below and answered with the option's name.
    if (key.type !== type) throw new TypeError(`not a ${type} key`)
    return key
  } catch {
    fail(`${name}.${type}Key must be a PEM ${type} key or a ${type} KeyObject`)
  }
}

function sameKey (a: KeyObject, b: KeyObject): boolean {
  return a.export({ type: 'spki', format: 'der' }).equals(b.export({ type: 'spki', format: 'der' }))
}

function resolveKey (entry: unknown, index: number): ResolvedKey {
  const where = `keys[${index}]`
  if (typeof entry !== 'object' || entry === null) fail(`${where} must be an object`)
  const { kid, algorithm, privateKey, publicKey } = entry as Record<string, unknown>
  rejectUnknownKeys(entry as Record<string, unknown>, KEY_FIELDS, `${where}.`, 'key field')
  if (typeof kid !== 'string' || kid === '') fail(`${where}.kid must be a non-empty string`)
  const name = `keys[${index}] (kid "${kid}")`
  const publicObject = toKey(publicKey, 'public', name)
  const mismatch = keyMismatch(publicObject, String(algorithm))
  if (mismatch !== undefined) fail(`${name}: ${mismatch}`)
  const privateObject = privateKey === undefined ? undefined : toKey(privateKey, 'private', name)
  if (privateObject !== undefined && !sameKey(createPublicKey(privateObject), publicObject)) {
    fail(`${name}.privateKey does not match its publicKey`)
  }
  return Object.freeze({ kid, algorithm: algorithm as AsymmetricAlgorithm, publicKey: publicObject, privateKey: privateObject })
}

/**
 * Checks the `keys` option: each key's algorithm is supported and fits the key (P-256 for
 * ES256, RSA of 2048 bits or more, Ed25519), a private key matches its public key, and
 * every `kid` is unique. Throws an `OptionError` naming the key.
 */
export function resolveKeys (keys: unknown): readonly ResolvedKey[] {
  if (!Array.isArray(keys) || keys.length === 0) fail('keys must be a non-empty array')
  const resolved = keys.map(resolveKey)
  const seen = new Set<string>()
  for (const key of resolved) {
    if (seen.has(key.kid)) fail(`keys: kid "${key.kid}" is used twice`)
    seen.add(key.kid)
  }
  return Object.freeze(resolved)
}
