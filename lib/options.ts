import { parse as parseDuration } from '@lukeed/ms'
import { Kind, Type, type TSchema } from '@sinclair/typebox'
import type { AttemptCounter, AuditHooks, JwtSessionOptions, RevocationStore, SessionClaims, SessionUser, Credentials } from './types'
import type { FastifyRequest } from 'fastify'
import { resolveKeys, type ResolvedKey } from './keys'
import { memoryAttempts } from './stores/memory-attempts'

/** Bytes an HMAC key needs for each algorithm: the hash's output size (RFC 7518 §3.2). */
const HMAC_KEY_BYTES = { HS256: 32, HS384: 48, HS512: 64 } as const

/** An HMAC algorithm this plugin signs and verifies with. */
type HmacAlgorithm = keyof typeof HMAC_KEY_BYTES

/** Clock leeway when `clockTolerance` is not given, in seconds. */
const DEFAULT_CLOCK_TOLERANCE = 5

const KNOWN_OPTIONS = new Set([
  'secret', 'keys', 'jwks', 'algorithm', 'expiresIn', 'maxSessionAge', 'clockTolerance', 'issuer', 'audience',
  'verifyCredentials', 'credentialsSchema', 'loadUser', 'revocationStore', 'storeTimeout', 'routes', 'cacheSize',
  'loginThrottle', 'cookie', 'onLogin', 'onLoginFailed', 'onRenew', 'onLogout'
])
const ROUTE_NAMES = ['login', 'renew', 'logout', 'jwks'] as const
const DEFAULT_PATHS = { login: '/@login', renew: '/@login-renew', logout: '/@logout', jwks: '/.well-known/jwks.json' }

/** The login body when the host gives no `credentialsSchema`; bounded so no verifier hashes megabytes. */
const DEFAULT_CREDENTIALS_SCHEMA = Type.Object({
  login: Type.String({ minLength: 1, maxLength: 256 }),
  password: Type.String({ minLength: 1, maxLength: 1024 })
}, { additionalProperties: false })

/** A verify-only service's view of another service's JWKS document. */
export interface ResolvedJwks {
  readonly url: string
  /** Milliseconds a fetch may take. */
  readonly timeout: number
  /** Milliseconds a fetched key is used before it is fetched again. */
  readonly maxAge: number
  /** Least milliseconds between fetches caused by unknown kids. */
  readonly refetchInterval: number
}

/** A limit on failed logins: `max` per window of `window` milliseconds. */
export interface ResolvedAttemptLimit {
  readonly max: number
  /** Milliseconds. */
  readonly window: number
}

/** The login throttle's limits and where attempts are counted. */
export interface ResolvedLoginThrottle {
  readonly perLogin: ResolvedAttemptLimit | false
  readonly perAddress: ResolvedAttemptLimit | false
  readonly loginName: (credentials: Credentials & Record<string, unknown>) => string | undefined
  readonly counter: AttemptCounter
}

const THROTTLE_FIELDS = new Set(['perLogin', 'perAddress', 'loginName', 'counter'])

/** Failed logins allowed per login name, and per address (an office behind one NAT shares it), in 15 minutes. */
const DEFAULT_LIMITS = { perLogin: { max: 10, window: '15m' }, perAddress: { max: 100, window: '15m' } } as const

const defaultLoginName = (credentials: Credentials & Record<string, unknown>): string | undefined =>
  typeof credentials.login === 'string' ? credentials.login : undefined

/** Cookie mode: where the token travels, and the header that carries the CSRF token. */
export interface ResolvedCookie {
  readonly name: string
  /** Lower case, as Node gives header names. */
  readonly csrfHeader: string
}

const COOKIE_FIELDS = new Set(['name', 'csrfHeader'])

/** An RFC 6265 cookie name, and an RFC 9110 header name: tokens. */
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/

/** Where the keys come from: a shared secret, configured key pairs, or an issuer's JWKS. */
export type KeySource =
  | { readonly kind: 'secret', readonly secret: Buffer, readonly algorithm: HmacAlgorithm }
  | { readonly kind: 'keys', readonly keys: readonly ResolvedKey[] }
  | { readonly kind: 'jwks', readonly jwks: ResolvedJwks }

const JWKS_FIELDS = new Set(['url', 'timeout', 'maxAge', 'refetchInterval'])

/** Where each route is registered; `false` when it is off. */
export type ResolvedRoutes = Readonly<Record<typeof ROUTE_NAMES[number], string | false>>

/** The options once validated and defaulted; the rest of the plugin reads only this. */
export interface ResolvedOptions {
  readonly keySource: KeySource
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
  /** Verified tokens kept; 0 for none. */
  readonly cacheSize: number
  /** `false` when failed logins are not throttled. */
  readonly loginThrottle: ResolvedLoginThrottle | false
  /** The login name in a login body, for the throttle and the audit hooks. */
  readonly loginName: (credentials: Credentials & Record<string, unknown>) => string | undefined
  /** `false` unless tokens also travel in a cookie. */
  readonly cookie: ResolvedCookie | false
  /** The host's audit callbacks; each may be undefined. */
  readonly audit: Readonly<AuditHooks>
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

/** A whole number of at least `minimum`, for counts and milliseconds. */
function wholeNumber (name: string, value: unknown, minimum: number, what: string): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < minimum) fail(`${name} must be ${what}`)
  return value
}

function optionalFunction<T> (name: string, value: unknown): T | undefined {
  if (value !== undefined && typeof value !== 'function') fail(`${name} must be a function`)
  return value as T | undefined
}

function optionalString (name: string, value: unknown): string | undefined {
  if (value !== undefined && (typeof value !== 'string' || value === '')) fail(`${name} must be a non-empty string`)
  return value as string | undefined
}

function resolveJwks (jwks: unknown): ResolvedJwks {
  if (!isPlainObject(jwks)) fail('jwks must be an object such as { url }')
  for (const key of Object.keys(jwks)) {
    if (!JWKS_FIELDS.has(key)) fail(`jwks.${key} is not a known jwks option`)
  }
  let url: URL | undefined
  try {
    url = new URL(jwks.url as string)
  } catch {}
  if (url === undefined || (url.protocol !== 'https:' && url.protocol !== 'http:')) fail('jwks.url must be an http(s) URL')
  return Object.freeze({
    url: url.href,
    timeout: wholeNumber('jwks.timeout', jwks.timeout ?? 2000, 1, 'a positive whole number of milliseconds'),
    maxAge: toSeconds('jwks.maxAge', jwks.maxAge ?? '10m') * 1000,
    refetchInterval: toSeconds('jwks.refetchInterval', jwks.refetchInterval ?? '30s') * 1000
  })
}

function resolveKeySource (options: JwtSessionOptions): KeySource {
  const given = (['secret', 'keys', 'jwks'] as const).filter((name) => options[name] !== undefined)
  if (given.length === 0) fail('one of secret, keys or jwks is required')
  if (given.length > 1) fail(`${given.join(' and ')} cannot be used together: choose one`)
  if (options.secret === undefined && options.algorithm !== undefined) {
    fail('algorithm goes with secret only: with keys or jwks, each key names its own')
  }
  if (options.keys !== undefined) {
    try {
      return { kind: 'keys', keys: resolveKeys(options.keys) }
    } catch (error) {
      fail((error as Error).message)
    }
  }
  if (options.jwks !== undefined) return { kind: 'jwks', jwks: resolveJwks(options.jwks) }
  const algorithm = resolveAlgorithm(options.algorithm)
  return { kind: 'secret', algorithm, secret: resolveSecret(options.secret, algorithm) }
}

function resolveAlgorithm (algorithm: unknown): HmacAlgorithm {
  if (algorithm === undefined) return 'HS256'
  if (typeof algorithm !== 'string' || !Object.hasOwn(HMAC_KEY_BYTES, algorithm)) {
    fail(`algorithm must be one of HS256, HS384, HS512, got ${JSON.stringify(algorithm)}`)
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

function resolveStore (store: unknown): RevocationStore | undefined {
  if (store === undefined) return undefined
  if (!isPlainObject(store) || typeof store.revoke !== 'function' || typeof store.cutoff !== 'function') {
    fail('revocationStore must have revoke() and cutoff() methods')
  }
  return store as unknown as RevocationStore
}

function resolveAttemptLimit (name: 'perLogin' | 'perAddress', value: unknown): ResolvedAttemptLimit | false {
  if (value === false) return false
  const limit = value ?? DEFAULT_LIMITS[name]
  if (!isPlainObject(limit) || Object.keys(limit).some((key) => key !== 'max' && key !== 'window')) {
    fail(`loginThrottle.${name} must be false or { max, window }`)
  }
  return Object.freeze({
    max: wholeNumber(`loginThrottle.${name}.max`, limit.max, 1, 'a whole number of failed logins, 1 or more'),
    window: toSeconds(`loginThrottle.${name}.window`, limit.window ?? DEFAULT_LIMITS[name].window) * 1000
  })
}

/** The counter a store offers for login attempts (the Redis store's), if it offers one. */
function storeCounter (store: RevocationStore | undefined): AttemptCounter | undefined {
  const attempts = (store as { attempts?: unknown } | undefined)?.attempts
  return isAttemptCounter(attempts) ? attempts : undefined
}

function isAttemptCounter (value: unknown): value is AttemptCounter {
  return isPlainObject(value) && typeof value.take === 'function' && typeof value.release === 'function'
}

function resolveLoginThrottle (throttle: unknown, store: RevocationStore | undefined, loginRoute: string | false): ResolvedLoginThrottle | false {
  if (throttle === false) return false
  if (loginRoute === false) {
    if (throttle !== undefined) fail('loginThrottle has no use: the login route is off')
    return false
  }
  if (throttle === undefined) throttle = {}
  if (!isPlainObject(throttle)) fail('loginThrottle must be false or an object')
  for (const key of Object.keys(throttle)) {
    if (!THROTTLE_FIELDS.has(key)) fail(`loginThrottle.${key} is not a known loginThrottle option`)
  }
  if (throttle.counter !== undefined && !isAttemptCounter(throttle.counter)) {
    fail('loginThrottle.counter must have take() and release() methods')
  }
  return Object.freeze({
    perLogin: resolveAttemptLimit('perLogin', throttle.perLogin),
    perAddress: resolveAttemptLimit('perAddress', throttle.perAddress),
    loginName: optionalFunction<ResolvedLoginThrottle['loginName']>('loginThrottle.loginName', throttle.loginName) ?? defaultLoginName,
    counter: (throttle.counter as AttemptCounter | undefined) ?? storeCounter(store) ?? memoryAttempts()
  })
}

function resolveCookie (cookie: unknown): ResolvedCookie | false {
  if (cookie === undefined || cookie === false) return false
  if (cookie === true) cookie = {}
  if (!isPlainObject(cookie)) fail('cookie must be true, false or an object')
  for (const key of Object.keys(cookie)) {
    if (!COOKIE_FIELDS.has(key)) fail(`cookie.${key} is not a known cookie option`)
  }
  const { name = '__Host-session', csrfHeader = 'x-csrf-token' } = cookie
  if (typeof name !== 'string' || !TOKEN.test(name)) fail('cookie.name must be a cookie name (letters, digits and !#$%&\'*+-.^_`|~)')
  if (typeof csrfHeader !== 'string' || !TOKEN.test(csrfHeader)) fail('cookie.csrfHeader must be a header name')
  return Object.freeze({ name, csrfHeader: csrfHeader.toLowerCase() })
}

function resolveAudit (options: JwtSessionOptions): Readonly<AuditHooks> {
  return Object.freeze({
    onLogin: optionalFunction<AuditHooks['onLogin']>('onLogin', options.onLogin),
    onLoginFailed: optionalFunction<AuditHooks['onLoginFailed']>('onLoginFailed', options.onLoginFailed),
    onRenew: optionalFunction<AuditHooks['onRenew']>('onRenew', options.onRenew),
    onLogout: optionalFunction<AuditHooks['onLogout']>('onLogout', options.onLogout)
  })
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
 * A verify-only service (a JWKS, or keys with no private key) has no route that signs:
 * asking for one, or for what only those routes use, is a mistake worth naming.
 */
function resolveVerifyOnlyRoutes (options: JwtSessionOptions): ResolvedRoutes {
  const why = 'this service only verifies tokens (no configured key signs)'
  for (const name of ['verifyCredentials', 'loadUser'] as const) {
    if (options[name] !== undefined) fail(`${name} has no use: ${why}`)
  }
  const routes = options.routes
  if (isPlainObject(routes)) {
    for (const name of ['login', 'renew', 'logout'] as const) {
      if (typeof routes[name] === 'string') fail(`routes.${name} cannot be served: ${why}`)
    }
  }
  resolveRoutes(routes)
  return { login: false, renew: false, logout: false, jwks: false }
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

  const keySource = resolveKeySource(options)
  // No key here signs: no login, renew or logout route, no JWKS.
  const verifyOnly = keySource.kind === 'jwks' || (keySource.kind === 'keys' && !keySource.keys.some((key) => key.privateKey !== undefined))

  const expiresIn = toSeconds('expiresIn', options.expiresIn ?? '12h')
  const maxSessionAge = options.maxSessionAge === false ? Infinity : toSeconds('maxSessionAge', options.maxSessionAge ?? '7d')
  if (maxSessionAge < expiresIn) fail('maxSessionAge must not be shorter than expiresIn')

  const clockTolerance = options.clockTolerance ?? DEFAULT_CLOCK_TOLERANCE
  if (typeof clockTolerance !== 'number' || !Number.isFinite(clockTolerance) || clockTolerance < 0 || clockTolerance > 300) {
    fail('clockTolerance must be a number of seconds from 0 to 300')
  }

  const credentialsSchema: unknown = options.credentialsSchema ?? DEFAULT_CREDENTIALS_SCHEMA
  if (!isPlainObject(credentialsSchema) || !(Kind in credentialsSchema)) fail('credentialsSchema must be a TypeBox schema')

  const routes = verifyOnly ? resolveVerifyOnlyRoutes(options) : resolveRoutes(options.routes)
  const verifyCredentials = optionalFunction<ResolvedOptions['verifyCredentials']>('verifyCredentials', options.verifyCredentials)
  if (routes.login !== false && verifyCredentials === undefined) {
    fail('verifyCredentials is required while the login route is on (set routes.login to false to turn it off)')
  }

  const revocationStore = resolveStore(options.revocationStore)
  const loginThrottle = resolveLoginThrottle(options.loginThrottle, revocationStore, routes.login)

  return Object.freeze({
    keySource,
    expiresIn,
    maxSessionAge,
    clockTolerance,
    issuer: optionalString('issuer', options.issuer),
    audience: optionalString('audience', options.audience),
    verifyCredentials,
    credentialsSchema: credentialsSchema as TSchema,
    loadUser: optionalFunction<ResolvedOptions['loadUser']>('loadUser', options.loadUser),
    revocationStore,
    storeTimeout: wholeNumber('storeTimeout', options.storeTimeout ?? 2000, 1, 'a positive whole number of milliseconds'),
    cacheSize: wholeNumber('cacheSize', options.cacheSize ?? 10_000, 0, 'a whole number of tokens, 0 or more'),
    routes: Object.freeze(routes),
    loginThrottle,
    loginName: loginThrottle === false ? defaultLoginName : loginThrottle.loginName,
    cookie: resolveCookie(options.cookie),
    audit: resolveAudit(options)
  })
}
