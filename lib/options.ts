import { Kind, Type, type TSchema } from '@sinclair/typebox'
import type { AuditHooks, JwtSessionOptions, RevocationStore, SessionClaims, SessionUser, Credentials } from './types'
import type { FastifyRequest } from 'fastify'
import { resolveKeys, type ResolvedKey } from './keys'
import { OptionError, fail, isPlainObject, optionalFunction, optionalString, toSeconds, wholeNumber } from './option-checks'
import { defaultLoginName, resolveAudit, resolveCookie, resolveLoginThrottle, type ResolvedCookie, type ResolvedLoginThrottle } from './route-options'

export { OptionError }

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
