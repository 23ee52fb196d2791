import ipaddr from 'ipaddr.js'
import { resolveKeys } from './keys'
import type { JwtSessionOptions } from '../types'
import { fail, isPlainObject, rejectUnknownKeys, toSeconds, wholeNumber } from './checks'
import { DEFAULTS, HMAC_KEY_BYTES, JWKS_OPTIONS, type HmacAlgorithm } from './defaults'
import type { KeySource, ResolvedJwks } from './resolved'

/* Where the keys come from: exactly one of `secret`, `keys` and `jwks`. */

/**
 * Estimated bits of entropy in a secret below which a warning is logged: a secret of one
 * repeated character, or of a few, passes the length check and is still guessable.
 */
const WEAK_SECRET_BITS = 96

/** Whether `hostname` (as `URL` spells it) is this machine: `localhost`, 127.0.0.0/8 or `::1`. */
function isLoopback (hostname: string): boolean {
  if (hostname === 'localhost') return true
  const address = hostname.replace(/^\[(.*)\]$/, '$1')
  return ipaddr.isValid(address) && ipaddr.process(address).range() === 'loopback'
}

/**
 * The secret's entropy as its own byte frequencies tell it (Shannon, times its length): an
 * upper bound for a random secret, and far below it for `aaaa…` or `abab…`.
 */
function estimatedBits (secret: Buffer): number {
  const counts = new Map<number, number>()
  for (const byte of secret) counts.set(byte, (counts.get(byte) ?? 0) + 1)
  let bits = 0
  for (const count of counts.values()) bits -= count * Math.log2(count / secret.length)
  return bits
}

/**
 * A URL the service fetches something it trusts from (keys, revocations): `https:`, or `http:`
 * to a loopback host, without credentials in it. Answers it normalised.
 */
export function secureUrl (name: string, value: unknown): string {
  let url: URL | undefined
  try {
    url = new URL(value as string)
  } catch {}
  // RFC 8725 §3.10: keys fetched over plain HTTP could be anyone's; loopback never leaves the machine.
  if (url === undefined || !(url.protocol === 'https:' || (url.protocol === 'http:' && isLoopback(url.hostname)))) {
    fail(`${name} must be an https: URL (http: only to a loopback host: localhost, 127.0.0.0/8, ::1)`)
  }
  if (url.username !== '' || url.password !== '') fail(`${name} must not carry a user name or password`)
  return url.href
}

function resolveJwks (jwks: unknown): ResolvedJwks {
  if (!isPlainObject(jwks)) fail('jwks must be an object such as { url }')
  rejectUnknownKeys(jwks, JWKS_OPTIONS, 'jwks.', 'jwks option')
  return Object.freeze({
    url: secureUrl('jwks.url', jwks.url),
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

function resolveSecret (secret: unknown, algorithm: HmacAlgorithm, warnings: string[]): Buffer {
  if (typeof secret !== 'string' && !Buffer.isBuffer(secret)) fail('secret must be a string or a Buffer')
  const key = Buffer.from(secret)
  const needed = HMAC_KEY_BYTES[algorithm]
  if (key.length < needed) fail(`secret must be at least ${needed} bytes for ${algorithm}, got ${key.length}`)
  const bits = estimatedBits(key)
  if (bits < WEAK_SECRET_BITS) {
    warnings.push(`fastify-jwt-session: the secret looks weak (about ${Math.floor(bits)} bits, from ${new Set(key).size} distinct bytes); use ${needed} random bytes, such as crypto.randomBytes(${needed}).toString('base64')`)
  }
  return key
}

/**
 * The key source of the options; refuses none, two at once, and `algorithm` without `secret`.
 * What is allowed but unwise (a weak secret) is added to `warnings`, for the logger.
 */
export function resolveKeySource (options: JwtSessionOptions, warnings: string[]): KeySource {
  const given = (['secret', 'keys', 'jwks'] as const).filter((name) => options[name] !== undefined)
  if (given.length === 0) fail('one of secret, keys or jwks is required')
  if (given.length > 1) fail(`${given.join(' and ')} cannot be used together: choose one`)
  if (options.secret === undefined && options.algorithm !== undefined) {
    fail('algorithm goes with secret only: with keys or jwks, each key names its own')
  }
  if (options.keys !== undefined) return { kind: 'keys', keys: resolveKeys(options.keys) }
  if (options.jwks !== undefined) return { kind: 'jwks', jwks: resolveJwks(options.jwks) }
  const algorithm = resolveAlgorithm(options.algorithm)
  return { kind: 'secret', algorithm, secret: resolveSecret(options.secret, algorithm, warnings) }
}
