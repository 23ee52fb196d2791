import type { SessionRegistry, FollowRevocationsOptions, RevocationFeedOptions, JwksOptions, JwtSessionOptions, RedisStoreOptions, RoutesOptions, MemoryStoreOptions, LoginThrottleOptions, CookieOptions, JwtKey } from '../types'

/*
 * Every option name and every default, written once. Each list is tied to the public types
 * by the compiler: a name added to `index.d.ts` and not here (or the other way round) fails
 * the build, and the README's options table is checked against these lists by a test.
 */

/** `true` when `Listed` names every key of `All`; otherwise the keys it misses. */
type Complete<All, Listed> = [Exclude<keyof All, Listed>] extends [never] ? true : Exclude<keyof All, Listed>

/** Compiles only for `true`: the error shows what a list misses. */
type Assert<T extends true> = T

/** The plugin's options. */
export const PLUGIN_OPTIONS = [
  'secret', 'keys', 'jwks', 'algorithm', 'expiresIn', 'maxSessionAge', 'clockTolerance', 'issuer', 'audience',
  'verifyCredentials', 'credentialsSchema', 'loadUser', 'revocationStore', 'renewGrace', 'idleTimeout', 'storeTimeout', 'routes',
  'cacheSize', 'loginThrottle', 'cookie', 'compat', 'onLogin', 'onLoginFailed', 'onRenew', 'onLogout', 'onReuse',
  'revocationFeed', 'followRevocations', 'maxSessionsPerUser', 'onSessionEvicted'
] as const satisfies ReadonlyArray<keyof JwtSessionOptions>

/** The routes the plugin can register, in the order of `RoutesOptions`. */
export const ROUTE_NAMES = ['login', 'renew', 'logout', 'jwks', 'revocations', 'sessions'] as const satisfies ReadonlyArray<keyof RoutesOptions>
/** `routes` takes these and `prefix`. */
export const ROUTES_OPTIONS = ['prefix', ...ROUTE_NAMES] as const satisfies ReadonlyArray<keyof RoutesOptions>

/** Fields of a `jwks` option. */
export const JWKS_OPTIONS = ['url', 'timeout', 'maxAge', 'refetchInterval'] as const satisfies ReadonlyArray<keyof JwksOptions>

/** Fields of one entry of `keys`. */
export const KEY_FIELDS = ['kid', 'algorithm', 'privateKey', 'publicKey'] as const satisfies ReadonlyArray<keyof JwtKey>

/** The methods of a store's session registry, all needed for it to count as one. */
export const REGISTRY_METHODS = ['add', 'touch', 'list', 'ended', 'forget'] as const satisfies ReadonlyArray<keyof SessionRegistry>

/** Fields of `revocationFeed`. */
export const FEED_OPTIONS = ['authorize'] as const satisfies ReadonlyArray<keyof RevocationFeedOptions>

/** Fields of `followRevocations`. */
export const FOLLOW_OPTIONS = ['url', 'headers', 'maxStaleness'] as const satisfies ReadonlyArray<keyof FollowRevocationsOptions>

/** Fields of `loginThrottle`. */
export const THROTTLE_OPTIONS = ['perLogin', 'perAddress', 'loginName', 'counter'] as const satisfies ReadonlyArray<keyof LoginThrottleOptions>

/** Fields of `cookie`. */
export const COOKIE_OPTIONS = ['name', 'csrfHeader'] as const satisfies ReadonlyArray<keyof CookieOptions>

/** Options of `memoryStore()`. */
export const MEMORY_STORE_OPTIONS = ['maxEntries', 'historySize'] as const satisfies ReadonlyArray<keyof MemoryStoreOptions>

/** Options of `redisStore()`. */
export const REDIS_STORE_OPTIONS = ['client', 'prefix', 'mode', 'maxEntries', 'minReplicas', 'replicaTimeout'] as const satisfies ReadonlyArray<keyof RedisStoreOptions>

/** Bytes an HMAC key needs for each algorithm: the hash's output size (RFC 7518 §3.2). */
export const HMAC_KEY_BYTES = { HS256: 32, HS384: 48, HS512: 64 } as const satisfies Record<NonNullable<JwtSessionOptions['algorithm']>, number>

/** The HMAC algorithms, from {@link HMAC_KEY_BYTES}. */
export type HmacAlgorithm = keyof typeof HMAC_KEY_BYTES

/** The asymmetric algorithms the plugin signs and verifies with. */
export const ASYMMETRIC_ALGORITHMS = ['ES256', 'RS256', 'PS256', 'EdDSA'] as const satisfies ReadonlyArray<JwtKey['algorithm']>

/** One of {@link ASYMMETRIC_ALGORITHMS}. */
export type AsymmetricAlgorithm = typeof ASYMMETRIC_ALGORITHMS[number]

/**
 * Every list above names every field of its type (the `satisfies` clauses check the other
 * way: nothing listed that the type lacks).
 */
export type ListsAreComplete = [
  Assert<Complete<JwtSessionOptions, typeof PLUGIN_OPTIONS[number]>>,
  Assert<Complete<RoutesOptions, typeof ROUTES_OPTIONS[number]>>,
  Assert<Complete<JwksOptions, typeof JWKS_OPTIONS[number]>>,
  Assert<Complete<JwtKey, typeof KEY_FIELDS[number]>>,
  Assert<Complete<RevocationFeedOptions, typeof FEED_OPTIONS[number]>>,
  Assert<Complete<FollowRevocationsOptions, typeof FOLLOW_OPTIONS[number]>>,
  Assert<Complete<LoginThrottleOptions, typeof THROTTLE_OPTIONS[number]>>,
  Assert<Complete<CookieOptions, typeof COOKIE_OPTIONS[number]>>,
  Assert<Complete<MemoryStoreOptions, typeof MEMORY_STORE_OPTIONS[number]>>,
  Assert<Complete<RedisStoreOptions, typeof REDIS_STORE_OPTIONS[number]>>,
  Assert<Complete<SessionRegistry, typeof REGISTRY_METHODS[number]>>,
  Assert<[Exclude<JwtKey['algorithm'], AsymmetricAlgorithm>] extends [never] ? true : false>
]

/** The defaults, as the README's options table gives them. */
export const DEFAULTS = Object.freeze({
  algorithm: 'HS256',
  expiresIn: '12h',
  maxSessionAge: '7d',
  /** Seconds of leeway for `exp`, `nbf` and `iat`. */
  clockTolerance: 5,
  /** Seconds a renewed-away token stays valid after its first renewal. */
  renewGrace: 10,
  /** How long after `exp` an expired token may still be renewed: not at all. */
  idleTimeout: false,
  /** Milliseconds. */
  storeTimeout: 2000,
  cacheSize: 10_000,
  routes: Object.freeze({ login: '/@login', renew: '/@login-renew', logout: '/@logout', jwks: '/.well-known/jwks.json', revocations: '/@revocations', sessions: '/@sessions' }),
  /** Live sessions per user (past it a login ends the least recently used), and ended ones the registry holds. */
  maxSessionsPerUser: 50,
  jwks: Object.freeze({ timeout: 2000, maxAge: '10m', refetchInterval: '30s' }),
  /** Longest a follower goes without a verified event before its tokens answer 503. */
  followRevocations: Object.freeze({ maxStaleness: '5s' }),
  /** Failed logins allowed per login name, and per address (an office behind one NAT shares it). */
  loginThrottle: Object.freeze({
    perLogin: Object.freeze({ max: 10, window: '15m' }),
    perAddress: Object.freeze({ max: 100, window: '15m' })
  }),
  cookie: Object.freeze({ name: '__Host-session', csrfHeader: 'x-csrf-token' }),
  memoryStore: Object.freeze({ maxEntries: 1_000_000, historySize: 100_000 }),
  redisStore: Object.freeze({ prefix: 'jwt-session:', mode: 'mirror', maxEntries: 1_000_000, minReplicas: 0, replicaTimeout: 1000 })
} as const) satisfies {
  algorithm: JwtSessionOptions['algorithm']
  expiresIn: JwtSessionOptions['expiresIn']
  maxSessionAge: JwtSessionOptions['maxSessionAge']
  clockTolerance: JwtSessionOptions['clockTolerance']
  renewGrace: JwtSessionOptions['renewGrace']
  idleTimeout: JwtSessionOptions['idleTimeout']
  storeTimeout: JwtSessionOptions['storeTimeout']
  cacheSize: JwtSessionOptions['cacheSize']
  maxSessionsPerUser: JwtSessionOptions['maxSessionsPerUser']
  routes: Readonly<Record<typeof ROUTE_NAMES[number], string>>
  jwks: Readonly<Required<Omit<JwksOptions, 'url'>>>
  followRevocations: Readonly<Required<Pick<FollowRevocationsOptions, 'maxStaleness'>>>
  loginThrottle: Readonly<Required<Pick<LoginThrottleOptions, 'perLogin' | 'perAddress'>>>
  cookie: Readonly<Required<CookieOptions>>
  memoryStore: Readonly<Required<MemoryStoreOptions>>
  redisStore: Readonly<Required<Omit<RedisStoreOptions, 'client'>>>
}
