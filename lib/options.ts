import { parse as parseDuration } from '@lukeed/ms'
import { Kind, Type, type TSchema } from '@sinclair/typebox'
import type { JwtSessionOptions, RevocationStore, SessionClaims, SessionUser, Credentials } from './types'
import type { FastifyRequest } from 'fastify'

/** Bytes an HMAC key needs for each algorithm: the hash's output size (RFC 7518 §3.2). */
const HMAC_KEY_BYTES = { HS256: 32, HS384: 48, HS512: 64 } as const

/** An HMAC algorithm this plugin signs and verifies with. */
export type HmacAlgorithm = keyof typeof HMAC_KEY_BYTES

/** Clock leeway when `clockTolerance` is not given, in seconds. */
export const DEFAULT_CLOCK_TOLERANCE = 5

const KNOWN_OPTIONS = new Set([
  'secret', 'algorithm', 'expiresIn', 'maxSessionAge', 'clockTolerance', 'issuer', 'audience',
  'verifyCredentials', 'credentialsSchema', 'loadUser', 'revocationStore', 'storeTimeout', 'routes'
])
const ROUTE_NAMES = ['login', 'renew', 'logout', 'jwks'] as const
const DEFAULT_PATHS = { login: '/@login', renew: '/@login-renew', logout: '/@logout', jwks: '/.well-known/jwks.json' }

/** The login body when the host gives no `credentialsSchema`; bounded so no verifier hashes megabytes. */
const DEFAULT_CREDENTIALS_SCHEMA = Type.Object({
  login: Type.String({ minLength: 1, maxLength: 256 }),
  password: Type.String({ minLength: 1, maxLength: 1024 })
}, { additionalProperties: false })

/** Where each route is registered; `false` when it is off. */
export type ResolvedRoutes = Readonly<Record<typeof ROUTE_NAMES[number], string | false>>

/** The options once validated and defaulted; the rest of the plugin reads only this. */
export interface ResolvedOptions {
  readonly secret: Buffer
  readonly algorithm: HmacAlgorithm
  /** Token lifetime, seconds. */
  readonly expiresIn: number
  /** Renewal limit from `auth_time`, seconds, or `Infinity`. */
  readonly maxSessionAge: number
  /** Seconds. */
  readonly clockTolerance: number
  readonly issuer: string | undefined
  readonly audience: string | undefined
  readonly verifyCredentials: ((credentials: Credentials & Record<string, unknown>, request: FastifyRequest) => Promise<SessionUser | null>) | undefined
  readonly credentialsSchema: TSchema
  readonly loadUser: ((claims: SessionClaims, request: FastifyRequest) => Promise<SessionUser | null>) | undefined
  readonly revocationStore: RevocationStore | undefined
  /** Milliseconds. */
  readonly storeTimeout: number
  readonly routes: ResolvedRoutes
}

/** An option that cannot be used; the message names the option. */
export class OptionError extends TypeError {
  override name = 'FastifyJwtSessionOptionError'
}

function fail (message: string): never {
  throw new OptionError(`fastify-jwt-session: ${message}`)
}

function isPlainObject (value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

/** Seconds from a number of seconds or a duration string such as `'12h'`; whole and positive. */
function toSeconds (name: string, value: unknown): number {
  const seconds = typeof value === 'number'
    ? value
    : typeof value === 'string' && value.trim() !== '' ? (parseDuration(value) ?? NaN) / 1000 : NaN
  if (!Number.isSafeInteger(seconds) || seconds <= 0) {
    fail(`${name} must be a positive whole number of seconds or a duration such as '12h', got ${JSON.stringify(value)}`)
  }
  return seconds
}

function optionalFunction<T> (name: string, value: unknown): T | undefined {
  if (value !== undefined && typeof value !== 'function') fail(`${name} must be a function`)
  return value as T | undefined
}

function optionalString (name: string, value: unknown): string | undefined {
  if (value !== undefined && (typeof value !== 'string' || value === '')) fail(`${name} must be a non-empty string`)
  return value as string | undefined
}

function resolveAlgorithm (algorithm: unknown): HmacAlgorithm {
  if (algorithm === undefined) return 'HS256'
  if (typeof algorithm !== 'string' || !Object.hasOwn(HMAC_KEY_BYTES, algorithm)) {
    fail(`algorithm must be one of HS256, HS384, HS512, got ${JSON.stringify(algorithm)}`)
  }
  return algorithm as HmacAlgorithm
}

function resolveSecret (secret: unknown, algorithm: HmacAlgorithm): Buffer {
  if (secret === undefined) fail('secret is required')
  if (typeof secret !== 'string' && !Buffer.isBuffer(secret)) fail('secret must be a string or a Buffer')
  const key = Buffer.from(secret)
  const needed = HMAC_KEY_BYTES[algorithm]
  if (key.length < needed) fail(`secret must be at least ${needed} bytes for ${algorithm}, got ${key.length}`)
  return key
}

function resolveStore (store: unknown): RevocationStore | undefined {
  if (store === undefined) return undefined
  if (!isPlainObject(store) || typeof store.revoke !== 'function' || typeof store.cutoff !== 'function') {
    fail('revocationStore must have revoke() and cutoff() methods')
  }
  return store as unknown as RevocationStore
}

function resolvePath (name: string, value: unknown, prefix: string): string | false {
  if (value === false) return false
  if (typeof value !== 'string' || !value.startsWith('/')) fail(`routes.${name} must be a path starting with '/' or false`)
  return prefix + value
}

function resolveRoutes (routes: unknown): ResolvedRoutes {
  if (routes === false) return { login: false, renew: false, logout: false, jwks: false }
  if (routes === undefined) routes = {}
  if (!isPlainObject(routes)) fail('routes must be false or an object')
  for (const key of Object.keys(routes)) {
    if (key !== 'prefix' && !(ROUTE_NAMES as readonly string[]).includes(key)) fail(`routes.${key} is not a known route`)
  }
  const prefix = routes.prefix ?? ''
  if (typeof prefix !== 'string' || (prefix !== '' && (!prefix.startsWith('/') || prefix.endsWith('/')))) {
    fail("routes.prefix must be a path such as '/auth', starting with '/' and not ending with one")
  }
  const resolved = {} as Record<typeof ROUTE_NAMES[number], string | false>
  for (const name of ROUTE_NAMES) resolved[name] = resolvePath(name, routes[name] ?? DEFAULT_PATHS[name], prefix)
  return resolved
}

/**
 * Validates the plugin options once, at registration, and returns them defaulted and frozen.
 * Throws an {@link OptionError} naming the option at the first problem; never mutates `options`.
 */
export function resolveOptions (options: JwtSessionOptions): ResolvedOptions {
  if (!isPlainObject(options)) fail('options must be an object')
  for (const key of Object.keys(options)) {
    if (!KNOWN_OPTIONS.has(key)) fail(`${key} is not a known option`)
  }

  const algorithm = resolveAlgorithm(options.algorithm)
  const secret = resolveSecret(options.secret, algorithm)

  const expiresIn = toSeconds('expiresIn', options.expiresIn ?? '12h')
  const maxSessionAge = options.maxSessionAge === false ? Infinity : toSeconds('maxSessionAge', options.maxSessionAge ?? '7d')
  if (maxSessionAge < expiresIn) fail('maxSessionAge must not be shorter than expiresIn')

  const clockTolerance = options.clockTolerance ?? DEFAULT_CLOCK_TOLERANCE
  if (typeof clockTolerance !== 'number' || !Number.isFinite(clockTolerance) || clockTolerance < 0 || clockTolerance > 300) {
    fail('clockTolerance must be a number of seconds from 0 to 300')
  }

  const storeTimeout: unknown = options.storeTimeout ?? 2000
  if (typeof storeTimeout !== 'number' || !Number.isSafeInteger(storeTimeout) || storeTimeout <= 0) fail('storeTimeout must be a positive whole number of milliseconds')

  const credentialsSchema: unknown = options.credentialsSchema ?? DEFAULT_CREDENTIALS_SCHEMA
  if (!isPlainObject(credentialsSchema) || !(Kind in credentialsSchema)) fail('credentialsSchema must be a TypeBox schema')

  const routes = resolveRoutes(options.routes)
  const verifyCredentials = optionalFunction<ResolvedOptions['verifyCredentials']>('verifyCredentials', options.verifyCredentials)
  if (routes.login !== false && verifyCredentials === undefined) {
    fail('verifyCredentials is required while the login route is on (set routes.login to false to turn it off)')
  }

  return Object.freeze({
    secret,
    algorithm,
    expiresIn,
    maxSessionAge,
    clockTolerance,
    issuer: optionalString('issuer', options.issuer),
    audience: optionalString('audience', options.audience),
    verifyCredentials,
    credentialsSchema: credentialsSchema as TSchema,
    loadUser: optionalFunction<ResolvedOptions['loadUser']>('loadUser', options.loadUser),
    revocationStore: resolveStore(options.revocationStore),
    storeTimeout,
    routes: Object.freeze(routes)
  })
}
