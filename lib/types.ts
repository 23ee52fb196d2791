import type { FastifyRequest } from 'fastify'
import type { TSchema } from '@sinclair/typebox'

/**
 * Claims a host adds to its tokens. Empty on purpose: extend it to type your own claims.
 *
 * @example
 * ```ts
 * declare module 'fastify-jwt-session' {
 *   interface SessionExtraClaims { fullname: string }
 * }
 * ```
 */
// eslint-disable-next-line @typescript-eslint/no-empty-object-type
export interface SessionExtraClaims {}

/**
 * The verified claims of a token, as `request.user` and `request.authenticate()` give them.
 * Frozen: the same object may serve several requests.
 */
export type SessionClaims = Readonly<SessionExtraClaims & {
  /** The subject: the host's user id. */
  sub: string
  /** The user's roles, as `requireRoles` checks them. */
  roles: readonly string[]
  /** Issued at, in seconds since the epoch. */
  iat: number
  /** Expiry, in seconds since the epoch. */
  exp: number
  /** This token's unique id (128 random bits, base64url). */
  jti: string
  /** The session id, the same across renewals. */
  sid: string
  /** When the user logged in, in seconds since the epoch; the same across renewals. */
  auth_time: number
  iss?: string
  aud?: string | string[]
  [claim: string]: unknown
}>

/** What the host's credential check (and `loadUser`) returns for a known user. */
export interface SessionUser {
  /** The host's user id; becomes the `sub` claim. */
  sub: string
  /** Roles for `requireRoles`; `[]` when omitted. */
  roles?: string[]
  /** Extra claims; they may not override the registered claims. */
  claims?: Record<string, unknown>
}

/** The login body, as the default `credentialsSchema` describes it. */
export interface Credentials {
  login: string
  password: string
}

/**
 * Where revocations live. A key is `jti:<id>`, `sid:<id>` or `sub:<id>`; its value, the
 * cut-off, is an `iat`: every token matching the key and issued at or before the cut-off
 * is revoked. Each entry may be dropped after `expiresAt`, when every token it blocks has
 * expired anyway. Methods may answer synchronously or with a promise; a throw, a rejection
 * or an answer slower than `storeTimeout` refuses the request with 503.
 */
export interface RevocationStore {
  /**
   * Records `cutoff` for `key` until `expiresAt` (seconds since the epoch), keeping the larger
   * cut-off when the key is already there. Answers `true` when the key had no entry with a
   * cut-off at least as large: of two renewals of one token, only the first gets `true`.
   */
  revoke (key: string, cutoff: number, expiresAt: number): boolean | Promise<boolean>
  /** The largest live cut-off among `keys`, or `undefined` when none of them is revoked. */
  cutoff (keys: readonly string[]): number | undefined | Promise<number | undefined>
}

/** A path, or `false` to leave that route out. */
export type RoutePath = string | false

/** Which routes are registered, and where. */
export interface RoutesOptions {
  /** Prepended to every route path, e.g. `/auth`. */
  prefix?: string
  /** Default `/@login`. */
  login?: RoutePath
  /** Default `/@login-renew`. */
  renew?: RoutePath
  /** Default `/@logout`. */
  logout?: RoutePath
  /** Default `/.well-known/jwks.json`; served only with asymmetric keys. */
  jwks?: RoutePath
}

/** A duration: seconds as a number, or a string such as `'12h'`, `'15m'`, `'7d'`. */
export type Duration = number | string

/** The options of the plugin; see the README for each default. */
export interface JwtSessionOptions {
  /** HMAC key; HS256 needs at least 32 bytes, HS384 48, HS512 64. */
  secret?: string | Buffer
  /** HMAC algorithm, `'HS256'` by default. */
  algorithm?: 'HS256' | 'HS384' | 'HS512'
  /** Lifetime of each token; `'12h'` by default. */
  expiresIn?: Duration
  /** Limit on a chain of renewals counted from the login; `'7d'` by default; `false` for none. */
  maxSessionAge?: Duration | false
  /** Leeway in seconds for `exp`, `nbf` and `iat`; 5 by default. */
  clockTolerance?: number
  /** Set as `iss` on every token and required on verification. */
  issuer?: string
  /** Set as `aud` on every token and required on verification. */
  audience?: string
  /** The host's credential check; `null` refuses the login. */
  verifyCredentials?: (credentials: Credentials & Record<string, unknown>, request: FastifyRequest) => Promise<SessionUser | null>
  /** TypeBox schema of the login body; `{ login, password }` strings by default. */
  credentialsSchema?: TSchema
  /** Called on renew to refresh roles and claims; `null` ends the session. */
  loadUser?: (claims: SessionClaims, request: FastifyRequest) => Promise<SessionUser | null>
  /** Where revocations live; without one, logout answers 501. */
  revocationStore?: RevocationStore
  /** Milliseconds a store call may take before the request fails with 503; 2000 by default. */
  storeTimeout?: number
  /** `false` for no routes, or where each route goes. */
  routes?: false | RoutesOptions
}
