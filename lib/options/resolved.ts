import type { TSchema } from '@sinclair/typebox'
import type { FastifyRequest } from 'fastify'
import type { ResolvedKey } from './keys'
import type { HmacAlgorithm, ROUTE_NAMES } from './defaults'
import type { AttemptCounter, AuditHooks, Credentials, RevocationStore, SessionClaims, SessionRegistry, SessionUser } from '../types'

/* The shape of the options once validated and defaulted: what the rest of the plugin reads. */

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

/** Where each route is registered; `false` when it is off. */
export type ResolvedRoutes = Readonly<Record<typeof ROUTE_NAMES[number], string | false>>

/** A limit on failed logins: `max` per window of `window` milliseconds. */
export interface ResolvedAttemptLimit {
  readonly max: number
  /** Milliseconds. */
  readonly window: number
}

/** The login name in a login body, for the throttle and the audit hooks. */
export type LoginName = (credentials: Credentials & Record<string, unknown>) => string | undefined

/** The login throttle's limits and, when the host or the store gives one, where attempts are counted. */
export interface ResolvedLoginThrottle {
  readonly perLogin: ResolvedAttemptLimit | false
  readonly perAddress: ResolvedAttemptLimit | false
  readonly loginName: LoginName
  /** Undefined: counted in this process's memory. */
  readonly counter: AttemptCounter | undefined
}

/** Cookie mode: where the token travels, and the header that carries the CSRF token. */
export interface ResolvedCookie {
  readonly name: string
  /** Lower case, as Node gives header names. */
  readonly csrfHeader: string
}

/** The issuer's feed: who may read it. */
export interface ResolvedFeed {
  readonly authorize: (request: FastifyRequest) => boolean | Promise<boolean>
}

/** A follower's feed: where it is, what to send, and how long silence is tolerated. */
export interface ResolvedFollow {
  readonly url: string
  readonly headers: Readonly<Record<string, string>>
  /** Milliseconds. */
  readonly maxStaleness: number
}

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
  /** Seconds a renewed-away token stays valid; 0 for none. */
  readonly renewGrace: number
  /** Seconds after `exp` an expired token may still be renewed; 0 for none. */
  readonly idleTimeout: number
  /** Milliseconds. */
  readonly storeTimeout: number
  /** Verified tokens kept; 0 for none. */
  readonly cacheSize: number
  /** `false` when failed logins are not throttled. */
  readonly loginThrottle: ResolvedLoginThrottle | false
  /** The login name in a login body, for the throttle and the audit hooks. */
  readonly loginName: LoginName
  /** `false` unless tokens also travel in a cookie. */
  readonly cookie: ResolvedCookie | false
  /** `'plone'` for Plone REST API behaviour. */
  readonly compat: 'plone' | undefined
  /** The host's audit callbacks; each may be undefined. */
  readonly audit: Readonly<AuditHooks>
  readonly routes: ResolvedRoutes
  /** The store's session registry, when it has one. */
  readonly registry: SessionRegistry | undefined
  /** Live sessions per user, and ended ones the registry holds per user. */
  readonly maxSessionsPerUser: number
  /** Set when this service publishes its revocations (`GET /@revocations`). */
  readonly revocationFeed: ResolvedFeed | undefined
  /** Set when this service follows an issuer's feed instead of a store. */
  readonly followRevocations: ResolvedFollow | undefined
  /** What the options allow but advise against, logged as warnings at registration. */
  readonly warnings: readonly string[]
}
