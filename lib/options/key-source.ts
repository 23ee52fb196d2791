import { resolveKeys } from './keys'
import type { JwtSessionOptions } from '../types'
import { fail, isPlainObject, rejectUnknownKeys, toSeconds, wholeNumber } from './checks'
import { DEFAULTS, HMAC_KEY_BYTES, JWKS_OPTIONS, type HmacAlgorithm } from './defaults'
import type { KeySource, ResolvedJwks } from './resolved'

/* Where the keys come from: exactly one of `secret`, `keys` and `jwks`. */

function resolveJwks (jwks: unknown): ResolvedJwks {
  if (!isPlainObject(jwks)) fail('jwks must be an object such as { url }')
  rejectUnknownKeys(jwks, JWKS_OPTIONS, 'jwks.', 'jwks option')
  let url: URL | undefined
  try {
    url = new URL(jwks.url as string)
  } catch {}
  if (url === undefined || (url.protocol !== 'https:' && url.protocol !== 'http:')) fail('jwks.url must be an http(s) URL')
  return Object.freeze({
    url: url.href,
    timeout: wholeNumber('jwks.timeout', jwks.timeout ?? DEFAULTS.jwks.timeout, 1, 'a positive whole number of milliseconds'),
    maxAge: toSeconds('jwks.maxAge', jwks.maxAge ?? DEFAULTS.jwks.maxAge) * 1000,
    refetchInterval: toSeconds('jwks.refetchInterval', jwks.refetchInterval ?? DEFAULTS.jwks.refetchInterval) * 1000
  })
}

function resolveAlgorithm (algorithm: unknown): HmacAlgorithm {
  if (algorithm === undefined) return DEFAULTS.algorithm
  if (typeof algorithm !== 'string' || !Object.hasOwn(HMAC_KEY_BYTES, algorithm)) {
    fail(`algorithm must be one of ${Object.keys(HMAC_KEY_BYTES).join(', ')}, got ${JSON.stringify(algorithm)}`)
  }
  return algorithm as HmacAlgorithm
}

function resolveSecret (secret: unknown, algorithm: HmacAlgorithm): Buffer {
  if (typeof secret !== 'string' && !Buffer.isBuffer(secret)) fail('secret must be a string or a Buffer')
  const key = Buffer.from(secret)
  const needed = HMAC_KEY_BYTES[algorithm]
  if (key.length < needed) fail(`secret must be at least ${needed} bytes for ${algorithm}, got ${key.length}`)
  return key
}

/** The key source of the options; refuses none, two at once, and `algorithm` without `secret`. */
export function resolveKeySource (options: JwtSessionOptions): KeySource {
  const given = (['secret', 'keys', 'jwks'] as const).filter((name) => options[name] !== undefined)
  if (given.length === 0) fail('one of secret, keys or jwks is required')
  if (given.length > 1) fail(`${given.join(' and ')} cannot be used together: choose one`)
  if (options.secret === undefined && options.algorithm !== undefined) {
    fail('algorithm goes with secret only: with keys or jwks, each key names its own')
  }
  if (options.keys !== undefined) return { kind: 'keys', keys: resolveKeys(options.keys) }
  if (options.jwks !== undefined) return { kind: 'jwks', jwks: resolveJwks(options.jwks) }
  const algorithm = resolveAlgorithm(options.algorithm)
  return { kind: 'secret', algorithm, secret: resolveSecret(options.secret, algorithm) }
}
