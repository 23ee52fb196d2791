import type {
  ContextConfigDefault,
  FastifyBaseLogger,
  FastifyPluginAsync,
  FastifyRegisterOptions,
  FastifyReply,
  FastifyRequest,
  FastifySchema,
  FastifyTypeProvider,
  FastifyTypeProviderDefault,
  HookHandlerDoneFunction,
  RawReplyDefaultExpression,
  RawRequestDefaultExpression,
  RawServerBase,
  RawServerDefault,
  RouteGenericInterface
} from 'fastify'
import type { FastifyErrorConstructor } from '@fastify/error'
// Brings in @fastify/jwt's declarations: `request.user`, `request.jwtVerify()`, `fastify.jwt`.
import type {} from '@fastify/jwt'
import type { KeyObject } from 'node:crypto'

/*
 * `request.user` belongs to @fastify/jwt's declarations (this plugin is built on it), typed
 * through its `FastifyJWT` interface: declaring it here too would clash (TS2717) in a host
 * that also uses @fastify/jwt. The host types its own tokens through `FastifyJWT['payload']`.
 */
declare module '@fastify/jwt' {
  interface FastifyJWT {
    /**
     * The verified claims, once `authenticate` has run (`null` before). Read it in routes
     * behind `fastify.authenticate`, or after `await request.authenticate()`. Frozen.
     */
    user: fastifyJwtSession.SessionClaims
  }
}

declare module 'fastify' {
  interface FastifyRequest {
    /** Verifies the Bearer token and the revocation store; sets and answers `request.user`. */
    authenticate (): Promise<fastifyJwtSession.SessionClaims>
  }
  interface FastifyInstance {
    /** A hook for `onRequest` (recommended: the body is not parsed yet) or `preHandler`. */
    authenticate: fastifyJwtSession.AuthHook
    /**
     * A hook for public routes that show more to signed-in users: with a valid token,
     * `request.user` holds its claims; with none, or one that fails, `request.user` is `null`
     * and the route runs. A store outage still answers 503.
     */
    authenticateOptional: fastifyJwtSession.AuthHook
    /** A hook: 403 unless the user has one of `roles`; authenticates first if needed. */
    requireRoles (...roles: [string, ...string[]]): fastifyJwtSession.AuthHook
    /**
     * A hook for step-up: 401 `FST_JWT_SESSION_INSUFFICIENT_AUTHENTICATION` (RFC 9470, with
     * `max_age`) unless the user logged in (`auth_time`) at most `maxAge` ago (seconds or a
     * duration); authenticates first if needed. A renewal keeps `auth_time`: only a login
     * (`POST /@login`, a new session) passes it again. Throws an `OptionError` for a bad `maxAge`.
     */
    requireFresh (maxAge: fastifyJwtSession.Duration): fastifyJwtSession.AuthHook
    /** The programmatic API: sign, verify and revoke outside the plugin's routes. */
    jwtAuth: fastifyJwtSession.JwtAuthApi
  }

  /*
   * One more way to register the plugin, tried before Fastify's own: it infers the login
   * schema, so that `verifyCredentials` receives `Static<typeof credentialsSchema>`. The type
   * parameters repeat Fastify's exactly, as declaration merging requires (unused here).
   */
  /* eslint-disable @typescript-eslint/no-unused-vars */
  interface FastifyRegister<
    T = void,
    RawServer extends RawServerBase = RawServerDefault,
    TypeProviderDefault extends FastifyTypeProvider = FastifyTypeProvider,
    LoggerDefault extends FastifyBaseLogger = FastifyBaseLogger
  > {
    <Schema extends fastifyJwtSession.CredentialsSchema = fastifyJwtSession.CredentialsSchema>(
      plugin: FastifyJwtSession,
      opts: FastifyRegisterOptions<fastifyJwtSession.JwtSessionOptions<Schema>>
    ): T
  }
  /* eslint-enable @typescript-eslint/no-unused-vars */
}

/*
 * The plugin, as Fastify's own `register` overloads see it should the one above not fit (a
 * mistake in the options): `never` as the schema refuses any `credentialsSchema` there and
 * types `credentials` as `{ login, password }`, so that a mistake stays an error.
 */
type FastifyJwtSession = FastifyPluginAsync<fastifyJwtSession.JwtSessionOptions<never>>

declare namespace fastifyJwtSession {
  /**
   * Claims a host adds to its tokens. Empty on purpose: extend it to type your own.
   *
   * @example
   * ```ts
   * declare module 'fastify-jwt-session' {
   *   interface SessionExtraClaims { fullname: string }
   * }
   * ```
   */
  export interface SessionExtraClaims {}

  /** The verified claims of a token, as `request.user` holds them. Frozen. */
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
    /** When the user logged in, in microseconds since the epoch: orders a login against a logout of every session finer than a second. */
    auth_us: number
    /** The token's generation in its session: 0 at login, one more at each renewal. */
    gen: number
    iss?: string
    aud?: string | string[]
  }>

  /** What the host's credential check (and `loadUser`) answers for a known user. */
  export interface SessionUser {
    /** The host's user id; becomes the `sub` claim. */
    sub: string
    /** Roles for `requireRoles`; `[]` when omitted. */
    roles?: string[]
    /** Extra claims; they may not set the registered claims (`sub`, `exp`, `jti`, …). */
    claims?: Record<string, unknown>
  }

  /** The login body, as the default `credentialsSchema` describes it. */
  export interface Credentials {
    login: string
    password: string
  }

  /** What a store holds for one session (`sid`) that was renewed or ended. */
  export interface SessionRecord {
    /** The current generation; the ones before it are retired (the one just before stays valid for `renewGrace`). */
    readonly generation: number
    /** When `generation` was reached, in microseconds since the epoch. */
    readonly renewedAt: number
    /** Logged out: every token of the session is refused. */
    readonly ended: boolean
  }

  /**
   * A TypeBox schema, described by the two members every TypeBox type carries rather than by
   * TypeBox's own `TSchema`: that one is keyed on unique symbols, and an ESM project's TypeBox
   * import and this CommonJS declaration would name two different copies of them.
   */
  export interface CredentialsSchema {
    params: unknown[]
    static: unknown
  }

  /**
   * What a login body holds once `schema` validated it: TypeBox's `Static<typeof schema>`;
   * `{ login, password }` when no schema is given.
   */
  export type CredentialsOf<Schema extends CredentialsSchema> =
    [Schema] extends [never] ? Credentials : CredentialsSchema extends Schema ? Credentials : (Schema & { params: [] })['static']

  /** One part of {@link JwtAuthApi.health}: its state, and since when (ms since the epoch; 0 when not known). */
  export interface PartHealth {
    readonly state: string
    readonly since: number
  }

  /**
   * What `fastify.jwtAuth.health()` answers, for a readiness probe. `ready` is false whenever
   * requests would answer 503: a store `unavailable`, `loading`, `distrusted` or `closed`, a
   * follower `pending` or `stale`, a remote JWKS `pending` (never fetched). A store without
   * `health()` shows `unknown` and does not make `ready` false; no store shows `none`.
   */
  export interface Health {
    readonly ready: boolean
    readonly store: PartHealth
    readonly keys: PartHealth
    readonly feed: PartHealth
  }

  /**
   * Where sessions' revocation state lives: one entry per session that was renewed or ended,
   * one per user logged out everywhere, never one per token. Methods answer synchronously or
   * with a promise; a throw, a rejection, an answer of the wrong type or one slower than
   * `storeTimeout` refuses the request with 503. An entry may be dropped after its
   * `expiresAt` (seconds since the epoch): no token it concerns can be used or renewed then.
   */
  export interface RevocationStore {
    /** Optional, feature-detected: the store's state for `jwtAuth.health()` (the Redis store: its gate and mirror). */
    health?(): PartHealth
    /** The session's record, or `undefined` (or `null`) when nothing is recorded for it. Read on every request. */
    session (sid: string): SessionRecord | undefined | null | Promise<SessionRecord | undefined | null>
    /** The user's logout-everywhere cut-off (a login time in microseconds), or `undefined` (or `null`). Read on every request. */
    subject (sub: string): number | undefined | null | Promise<number | undefined | null>
    /**
     * Atomically for `sid`: unless the session has ended or its generation is already past
     * `generation`, makes `generation + 1` current, reached at `at` (microseconds). Answers
     * the record after the call. Keeps the entry until `expiresAt`, the later of old and new.
     */
    renew (sid: string, generation: number, at: number, expiresAt: number): SessionRecord | Promise<SessionRecord>
    /** Ends the session: every token of `sid` is refused from now on. Kept until `expiresAt` at least. */
    end (sid: string, expiresAt: number): void | Promise<void>
    /**
     * Records a cut-off for `sub` past both `cutoff` and the one it holds (the held one plus one
     * µs when it is not smaller: a login may have been stamped just past it), atomically: every
     * session that logged in at or before it is refused.
     */
    endSubject (sub: string, cutoff: number, expiresAt: number): void | Promise<void>
    /** What `revocationFeed` publishes from: optional; a store without it cannot serve a feed. */
    readonly history?: RevocationHistory
    /**
     * Optional. Called once at registration by an app that signs, with fingerprints of its
     * keys (never the keys): refuses, by rejecting, a store already used by another app (no
     * fingerprint in common), whose ids would collide with this app's. The plugin waits up to
     * `storeTimeout` for it; a rejection fails the registration.
     */
    claimPrefix? (fingerprints: string[]): Promise<void>
    /**
     * Optional, feature-detected: the live sessions of each user, for `GET /@sessions`,
     * `DELETE /@sessions/:id`, `{ others: true }`, `maxSessionsPerUser`, `jwtAuth.sessions()`
     * and `jwtAuth.endSession()`. A store without it serves everything else.
     */
    readonly registry?: SessionRegistry
  }

  /**
   * One live session as a {@link SessionRegistry} holds it. `createdAt` is the login's
   * `auth_us` and `lastSeenAt` the login or the last renewal (microseconds); `expiresAt` is the
   * last second a token of it can be used or renewed.
   */
  export interface SessionEntry {
    readonly sid: string
    readonly createdAt: number
    readonly lastSeenAt: number
    readonly expiresAt: number
    /** `request.ip` at the login or the last renewal (so Fastify's `trustProxy` applies). */
    readonly ip: string
    /** The `user-agent` header then, `''` without one. */
    readonly userAgent: string
  }

  /**
   * A user's oldest ended sessions folded into a cut-off (see {@link SessionRegistry.ended}):
   * the plugin records `cutoff` with `endSubject` first, and only then calls `forget(sids)`, so
   * that no revocation is ever forgotten, and no live session leaves the list while it works.
   */
  export interface SessionFold {
    /** A login time (microseconds) at or past the login of every session in `sids`. */
    readonly cutoff: number
    /** The sessions, ended or live, that logged in at or before `cutoff`: still held, until `forget`. */
    readonly sids: readonly string[]
  }

  /**
   * A store's registry of live sessions, one list per user. Every method is atomic for one
   * user (the Redis store keeps a user's list under one hash tag, so Redis Cluster works).
   */
  export interface SessionRegistry {
    /**
     * Lists `entry` among `sub`'s live sessions. When more than `max` are then live, removes
     * the least recently used (smallest `lastSeenAt`) until `max` remain, and answers them:
     * the plugin ends each one as a logout does.
     */
    add (sub: string, entry: SessionEntry, max: number): readonly SessionEntry[] | Promise<readonly SessionEntry[]>
    /** At a renewal: replaces the listed entry's `lastSeenAt`, `expiresAt`, `ip` and `userAgent`. Does nothing when `entry.sid` is not listed (it ended). */
    touch (sub: string, entry: SessionEntry): void | Promise<void>
    /** `sub`'s live sessions whose `expiresAt` has not passed, in any order. */
    list (sub: string): readonly SessionEntry[] | Promise<readonly SessionEntry[]>
    /**
     * After the store ended `sid` (logged in at `createdAt`, µs): removes it from `sub`'s live
     * sessions and counts it among the ended ones until `expiresAt`. When more than `max` ended
     * ones are then held, answers a {@link SessionFold} for the oldest (by login) past `max`,
     * and keeps them all: a fold whose cut-off the store fails to record must leave its live
     * sessions listed. The next end answers the fold again.
     */
    ended (sub: string, sid: string, createdAt: number, expiresAt: number, max: number): SessionFold | undefined | Promise<SessionFold | undefined>
    /**
     * Called once a cut-off of `sub` covering `sids` is recorded: drops them from the registry
     * (ended or live) and the store's entries of them (their revocations). Drops nothing when
     * `sub` holds no cut-off; a session that logged in after the one held, or that the registry
     * does not hold, keeps its entry and its revocation, whatever the caller named.
     */
    forget (sub: string, sids: readonly string[]): void | Promise<void>
  }

  /**
   * One change a store recorded, with its place in the store's history (`cursor`, opaque):
   * a session renewed (`ended: false`, its new generation) or ended, or a user's cut-off raised.
   */
  export type RevocationChange =
    | { readonly cursor: string, readonly kind: 'session', readonly sid: string, readonly record: SessionRecord, readonly expiresAt: number }
    | { readonly cursor: string, readonly kind: 'subject', readonly sub: string, readonly cutoff: number, readonly expiresAt: number }

  /**
   * Every entry a store holds at one point of its history (`cursor`): sessions as
   * `[sid, generation, renewedAt (µs), ended (0 or 1), expiresAt (s)]`, users as
   * `[sub, cutoff (µs), expiresAt (s)]`.
   */
  export interface RevocationSnapshot {
    readonly cursor: string
    readonly sessions: ReadonlyArray<readonly [sid: string, generation: number, renewedAt: number, ended: 0 | 1, expiresAt: number]>
    readonly subjects: ReadonlyArray<readonly [sub: string, cutoff: number, expiresAt: number]>
  }

  /** A store's history of changes, from which `revocationFeed` serves `GET /@revocations`. */
  export interface RevocationHistory {
    /** Everything held now, and the cursor it stands at. */
    snapshot (): RevocationSnapshot | Promise<RevocationSnapshot>
    /**
     * At most `limit` changes strictly after `cursor`, oldest first (empty when none), or
     * `undefined` when the history no longer holds (or never held) that cursor.
     */
    changesSince (cursor: string, limit: number): readonly RevocationChange[] | undefined | Promise<readonly RevocationChange[] | undefined>
    /** Calls `listener` after each change is recorded; answers the function that stops it. */
    watch (listener: () => void): () => void
  }

  /** Options of {@link memoryStore}. */
  export interface MemoryStoreOptions {
    /** Most entries (sessions, users and the registry's sessions) kept at once; past it a new one fails (503) rather than forget one. Default 1,000,000. */
    maxEntries?: number
    /**
     * Changes kept for `revocationFeed` readers that reconnect (`Last-Event-ID`); one further
     * behind gets a snapshot. Default 100,000.
     */
    historySize?: number
  }

  /** The in-process store: it answers synchronously, and tells how many entries it holds. */
  export interface MemoryStore extends RevocationStore {
    session (sid: string): SessionRecord | undefined
    subject (sub: string): number | undefined
    renew (sid: string, generation: number, at: number, expiresAt: number): SessionRecord
    end (sid: string, expiresAt: number): void
    endSubject (sub: string, cutoff: number, expiresAt: number): void
    /** Revocation entries held: sessions and users (the registry's entries are its own `size`). */
    readonly size: number
    /** What `revocationFeed` publishes: the last `historySize` changes, every answer at once. */
    readonly history: MemoryStoreHistory
    /** Each user's sessions, every answer at once; its entries count under `maxEntries` with the revocation entries. */
    readonly registry: MemorySessionRegistry
  }

  /** The memory store's {@link SessionRegistry}: synchronous, and it tells how many entries it holds. */
  export interface MemorySessionRegistry extends SessionRegistry {
    add (sub: string, entry: SessionEntry, max: number): readonly SessionEntry[]
    touch (sub: string, entry: SessionEntry): void
    list (sub: string): readonly SessionEntry[]
    ended (sub: string, sid: string, createdAt: number, expiresAt: number, max: number): SessionFold | undefined
    forget (sub: string, sids: readonly string[]): void
    /** Entries held, every user's live and ended sessions. */
    readonly size: number
    /** Entries held for `sub`: its live sessions and its ended ones not yet folded into a cut-off. */
    held (sub: string): number
  }

  /** The memory store's {@link RevocationHistory}: synchronous. */
  export interface MemoryStoreHistory extends RevocationHistory {
    snapshot (): RevocationSnapshot
    changesSince (cursor: string, limit: number): readonly RevocationChange[] | undefined
  }

  /**
   * An ioredis client (`new Redis(...)`, or the one `@fastify/redis` decorates), described by
   * exactly the methods the store calls, so that these types do not need ioredis installed.
   */
  export interface RedisClient {
    eval (script: string, numberOfKeys: number, ...args: Array<string | number>): Promise<unknown>
    mget (keys: string[]): Promise<Array<string | null>>
    /** A connection of the store's own: the mirror's subscription, and the writes that wait for replicas (`minReplicas`, a pipeline of the script and its `WAIT`). */
    duplicate (): RedisSubscriber & { pipeline (): RedisPipeline }
    /**
     * The store's parts stop when the host's client ends; in `lookup` mode, `health()` follows
     * its connection (`close`, then `ready` again)...
     */
    once (event: 'end' | 'close' | 'ready', listener: () => void): unknown
    /** ...and leave no listener behind when the store closes first. */
    off (event: 'end' | 'close' | 'ready', listener: () => void): unknown
    /** The start-up check (`INFO`) and the mirror's reads of the logs (`XRANGE`, `XREVRANGE`). */
    call (command: string, ...args: Array<string | number>): Promise<unknown>
  }

  /** The pipeline of a {@link RedisClient}'s duplicate, as far as the writes that wait for replicas use it. */
  export interface RedisPipeline {
    call (command: string, ...args: Array<string | number>): RedisPipeline
    exec (): Promise<Array<[error: Error | null, result: unknown]> | null>
  }

  /** The mirror's own connection, a duplicate of the host's client. */
  export interface RedisSubscriber {
    readonly status: string
    connect (): Promise<unknown>
    subscribe (channel: string): Promise<unknown>
    on (event: 'message', listener: (channel: string, message: string) => void): unknown
    on (event: 'close' | 'end' | 'ready' | 'error', listener: (...args: any[]) => void): unknown
    once (event: 'ready', listener: () => void): unknown
    disconnect (): void
  }

  /** Options of {@link redisStore}. */
  export interface RedisStoreOptions {
    /** An ioredis client the host owns; the store never closes it. */
    client: RedisClient
    /**
     * Prepended to every key (`<prefix>s:{<bucket>}<sid>`, `<prefix>u:{<bucket>}<sub>`, the logs
     * `<prefix>log:{<bucket>}`, each user's session registry `<prefix>r:{u:<hash>}<sub>`) and to the pub/sub channel (`<prefix>revoked`, `<prefix>revoked:<db>`
     * for a client on a database other than 0). Default `'jwt-session:'`.
     */
    prefix?: string
    /**
     * `'mirror'` (default): each process keeps a copy of the sessions' state, current through
     * pub/sub and the buckets' logs, and `authenticate` answers from memory. `'lookup'`: one
     * Redis read per request.
     */
    mode?: 'mirror' | 'lookup'
    /** Mirror mode: most entries (sessions and users) the copy holds (1,000,000). */
    maxEntries?: number
    /**
     * Replicas that must hold a revocation before it is acknowledged (`WAIT`); fewer within
     * `replicaTimeout` fail the logout or renewal with 503. Default `0`: acknowledged once the
     * master has it.
     */
    minReplicas?: number
    /** Milliseconds a revocation waits for `minReplicas` replicas (`WAIT`'s timeout). Default `1000`; keep it below `storeTimeout`. */
    replicaTimeout?: number
  }

  /**
   * Counts login attempts in fixed windows, for the login throttle. A window starts with the
   * first attempt counted under a key and lasts `windowMs`. Methods answer synchronously or
   * with a promise; a throw, a rejection or an answer slower than `storeTimeout` refuses the
   * login with 503.
   */
  export interface AttemptCounter {
    /**
     * Counts one attempt under `key` and answers `0`, unless `limit` attempts are counted in
     * its window already: then counts nothing and answers the milliseconds until the window ends.
     */
    take (key: string, limit: number, windowMs: number): number | Promise<number>
    /**
     * Uncounts one attempt under `key`, if any is counted: the login it was taken for succeeded,
     * or another limit refused it. A key counted down to zero should be dropped, not kept.
     */
    release (key: string): void | Promise<void>
  }

  /** A limit on failed logins: at most `max` in each `window`. */
  export interface AttemptLimit {
    /** Failures allowed in a window; the next attempt gets 429. */
    max: number
    /** How long a window lasts, from its first failure: `'15m'` by default. */
    window?: Duration
  }

  /** Options of the login throttle (`loginThrottle`); it is on by default. */
  export interface LoginThrottleOptions {
    /** Failures allowed per login name: `{ max: 10, window: '15m' }` by default; `false` for no limit. */
    perLogin?: AttemptLimit | false
    /** Failures allowed per client address (`request.ip`; IPv6 by /64): `{ max: 100, window: '15m' }` by default; `false` for no limit. */
    perAddress?: AttemptLimit | false
    /**
     * The login name in a login body; `credentials.login` by default. `undefined` skips the
     * per-login limit for that body. The plugin folds case and Unicode width (NFKC, then
     * `toLowerCase()`); a host that folds names further (`trim()`, locale rules) must answer
     * the name as its own user lookup folds it, or each variant gets a fresh budget.
     */
    loginName?: (credentials: Credentials & Record<string, unknown>) => string | undefined
    /** Where attempts are counted: the Redis store's counter when `revocationStore` is one, else this process's memory. */
    counter?: AttemptCounter
  }

  /** The Redis store. */
  export interface RedisStore extends RevocationStore {
    /** Login attempts counted in the same Redis, so the login throttle holds across instances. */
    readonly attempts: AttemptCounter
    /**
     * What `revocationFeed` publishes: the buckets' logs in Redis, so every instance on the
     * same Redis serves every change, whoever recorded it, and resumes any instance's cursor.
     */
    readonly history: RevocationHistory
    /**
     * Each user's sessions, live and ended, in one key of the user's own
     * (`<prefix>r:{u:<hash>}<sub>`: one slot on a Cluster, each method one atomic script),
     * read only when a user or the host asks: the mirror does not copy it. It expires with the
     * last session it lists. A Redis error rejects (503).
     */
    readonly registry: RedisSessionRegistry
    /**
     * Resolves once Redis passed the start-up check (eviction policy, version, scripts, ACL)
     * and, in mirror mode, the copy is loaded and subscribed; rejects with an `OptionError`
     * naming the problem when Redis is refused. The plugin waits up to `storeTimeout` for it.
     */
    ready (): Promise<void>
    /**
     * Claims `prefix` for the app with these key fingerprints (the plugin calls it): rejects
     * with an `OptionError` naming the `prefix` option when another app (other keys) holds it.
     * Until the claim succeeds, `ready()` waits and every call fails closed.
     */
    claimPrefix (fingerprints: string[]): Promise<void>
    /** Stops the mirror's own subscription connection; the host's client is never closed. */
    close (): Promise<void>
  }

  /** The Redis store's {@link SessionRegistry}: every answer a promise, rejected when Redis fails. */
  export interface RedisSessionRegistry extends SessionRegistry {
    add (sub: string, entry: SessionEntry, max: number): Promise<readonly SessionEntry[]>
    touch (sub: string, entry: SessionEntry): Promise<void>
    list (sub: string): Promise<readonly SessionEntry[]>
    ended (sub: string, sid: string, createdAt: number, expiresAt: number, max: number): Promise<SessionFold | undefined>
    forget (sub: string, sids: readonly string[]): Promise<void>
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
    /** Default `/@revocations`; served only with `revocationFeed`. */
    revocations?: RoutePath
    /**
     * Default `/@sessions` (`GET` the caller's sessions, `DELETE /@sessions/:id` one of them);
     * served when the store has a `registry`. A path given here with a store without one fails
     * the registration.
     */
    sessions?: RoutePath
  }

  /** `revocationFeed`: an issuer publishes what its store records, as Server-Sent Events of signed SETs. */
  export interface RevocationFeedOptions {
    /**
     * Who may read the feed: `true` serves it, `false` answers 403. An error with a `statusCode`
     * (such as the 401 of `await request.authenticate()`) is answered as itself; any other, 500.
     */
    authorize (request: FastifyRequest): boolean | Promise<boolean>
  }

  /** `followRevocations`: a verify-only service keeps a copy of an issuer's revocations from its feed. */
  export interface FollowRevocationsOptions {
    /** The issuer's feed, such as `https://auth.example/@revocations`: `https:`, or `http:` to a loopback host. */
    url: string
    /** Sent with every request to the feed, such as an `authorization` header. */
    headers?: Record<string, string>
    /** Longest time without a verified event (or before the first snapshot) before tokens answer 503; `'5s'` by default. */
    maxStaleness?: Duration
  }

  /** A duration: seconds as a number, or a string such as `'12h'`, `'15m'`, `'7d'`. */
  export type Duration = number | string

  /** An asymmetric key: its public half verifies; with its private half, the first such key signs. */
  export interface JwtKey {
    /** Unique among the keys; set as the `kid` header of the tokens this key signs. */
    kid: string
    /** ES256 (P-256, recommended), RS256 or PS256 (RSA of 2048 bits or more), or EdDSA (Ed25519). */
    algorithm: 'ES256' | 'RS256' | 'PS256' | 'EdDSA'
    /** PEM, or a private KeyObject; only on the service that signs. */
    privateKey?: string | Buffer | KeyObject
    /** PEM, or a public KeyObject. */
    publicKey: string | Buffer | KeyObject
  }

  /** Verify-only mode against another service's JWKS document. */
  export interface JwksOptions {
    /**
     * The document's URL, such as `https://auth.example/.well-known/jwks.json`: `https:`, or
     * `http:` to a loopback host only (`localhost`, 127.0.0.0/8, `::1`). Redirects are refused
     * and the document may be 64 KB at most.
     */
    url: string
    /** Milliseconds a fetch may take before the request gets 503; 2000 by default. */
    timeout?: number
    /** How long a fetched key is used before it is fetched again; `'10m'` by default. */
    maxAge?: Duration
    /** Least time between fetches caused by tokens with an unknown `kid`; `'30s'` by default. */
    refetchInterval?: Duration
  }

  /** A login that succeeded: the new session. Never a password or a token. */
  export interface LoginEvent {
    readonly sub: string
    readonly sid: string
    readonly jti: string
  }

  /** A login that was refused: wrong credentials, or throttled. Never a password. */
  export interface LoginFailedEvent {
    /** The login name given, if the body has one (see `loginThrottle.loginName`). */
    readonly login: string | undefined
    readonly reason: 'invalid_credentials' | 'throttled'
  }

  /** A renewal: the new token's `jti` and the one it replaced. Never a token. */
  export interface RenewEvent {
    readonly sub: string
    readonly sid: string
    readonly jti: string
    readonly previousJti: string
  }

  /**
   * A retired token was renewed after `renewGrace`: someone else holds a copy of the session
   * (a stolen token, or a client that kept an old one), and the whole session was revoked.
   */
  export interface ReuseEvent {
    readonly sub: string
    readonly sid: string
    /** The `jti` of the token that was replayed. */
    readonly jti: string
  }

  /**
   * A logout: of this session, or with `all` of every session of `sub`, or with `others` of
   * every other session of `sub` (`sid` goes on). `DELETE /@sessions/:id` reports the session
   * it ended as `sid`.
   */
  export interface LogoutEvent {
    readonly sub: string
    readonly sid: string
    readonly all: boolean
    /** Set (`true`) only for `{ "others": true }`. */
    readonly others?: boolean
  }

  /** A login past `maxSessionsPerUser` ended one of the user's sessions, the least recently used. */
  export interface SessionEvictedEvent {
    readonly sub: string
    /** The session that was ended. */
    readonly sid: string
    /** The login that caused it. */
    readonly by: string
    readonly reason: 'max_sessions'
  }

  /**
   * Audit callbacks, called once the outcome is decided and awaited before the answer is
   * sent. One that throws is logged (at error) and changes nothing: the login, renewal or
   * logout has happened.
   */
  export interface AuditHooks {
    onLogin?: (event: LoginEvent, request: FastifyRequest) => void | Promise<void>
    onLoginFailed?: (event: LoginFailedEvent, request: FastifyRequest) => void | Promise<void>
    onRenew?: (event: RenewEvent, request: FastifyRequest) => void | Promise<void>
    onLogout?: (event: LogoutEvent, request: FastifyRequest) => void | Promise<void>
    /** A retired token was renewed after the grace: the session was revoked (also logged at warn). */
    onReuse?: (event: ReuseEvent, request: FastifyRequest) => void | Promise<void>
    /** A login past `maxSessionsPerUser` ended the user's least recently used session (also logged at info). */
    onSessionEvicted?: (event: SessionEvictedEvent, request: FastifyRequest) => void | Promise<void>
  }

  /** Cookie mode (needs `@fastify/cookie`): the token travels in an HttpOnly cookie. */
  export interface CookieOptions {
    /**
     * The cookie's name; `'__Host-session'` by default (the browser then insists on Secure and
     * Path=/, with no Domain). A name without the `__Host-` prefix is logged as a warning.
     */
    name?: string
    /** The header that must carry the session's CSRF token on state-changing requests; `'x-csrf-token'` by default. */
    csrfHeader?: string
  }

  /**
   * The plugin's options; the README gives each default. Exactly one of `secret`, `keys`,
   * `jwks`. `Schema` is the login body's schema, inferred from `credentialsSchema`.
   */
  export interface JwtSessionOptions<Schema extends CredentialsSchema = CredentialsSchema> extends AuditHooks {
    /** HMAC key; HS256 needs at least 32 bytes, HS384 48, HS512 64. */
    secret?: string | Buffer
    /** Asymmetric keys; the first with a private key signs, every one verifies (rotation). */
    keys?: JwtKey[]
    /** Verify-only mode against another service's JWKS document. */
    jwks?: JwksOptions
    /** With `secret` only: `'HS256'` by default. */
    algorithm?: 'HS256' | 'HS384' | 'HS512'
    /** Lifetime of each token; `'12h'` by default. */
    expiresIn?: Duration
    /** Limit on a chain of renewals from the login; `'7d'` by default; `false` for none. */
    maxSessionAge?: Duration | false
    /** Leeway in seconds for `exp`, `nbf` and `iat`; 5 by default. */
    clockTolerance?: number
    /** Set as `iss` on every token and required on verification. */
    issuer?: string
    /**
     * Set as `aud` on every token and required on verification. Required with `jwks`, where
     * an issuer's tokens for other services must not pass; `false` there accepts any audience.
     */
    audience?: string | false
    /** The host's credential check: a user, or `null` to refuse the login. */
    verifyCredentials?: (credentials: CredentialsOf<Schema>, request: FastifyRequest) => Promise<SessionUser | null>
    /** TypeBox schema of the login body; `{ login, password }` strings by default. */
    credentialsSchema?: Schema
    /** Called on renew to refresh roles and claims; `null` ends the session. */
    loadUser?: (claims: SessionClaims, request: FastifyRequest) => Promise<SessionUser | null>
    /** Where revocations live; without one, logout answers 501 and renewals retire nothing. */
    revocationStore?: RevocationStore
    /**
     * Seconds a renewed-away token stays valid (for requests and renewals) after its first
     * renewal, so that tabs renewing one token together all succeed; 10 by default, 0 for none.
     */
    renewGrace?: number
    /**
     * How long after its `exp` an expired token may still be renewed (only renewed), never
     * past `maxSessionAge`; `false` (the default) for not at all.
     */
    idleTimeout?: Duration | false
    /** Milliseconds a store call may take before the request fails with 503; 2000 by default. */
    storeTimeout?: number
    /** Verified tokens kept in memory, so a reused token costs a lookup; 10,000 by default, 0 for none. */
    cacheSize?: number
    /** `false` for no routes, or where each route goes. */
    routes?: false | RoutesOptions
    /** Throttling of failed logins (429 with `Retry-After`); on by default, `false` turns it off. */
    loginThrottle?: false | LoginThrottleOptions
    /** Cookie mode, off by default: `true` or options. Needs `@fastify/cookie` registered first. */
    cookie?: boolean | CookieOptions
    /**
     * `'plone'`: Plone REST API behaviour, for Volto and `@plone/client`: the routes' errors as
     * `{ "error": { "type", "message" } }` with Plone's texts, extra login fields ignored,
     * `GET /@login` answering `{ "options": [] }`.
     */
    compat?: 'plone'
    /** Serves `GET /@revocations`, the feed of every revocation the store records; needs `issuer` and a store with `history`. */
    revocationFeed?: RevocationFeedOptions
    /** Follows an issuer's feed instead of a store: with `jwks`, or `secret` and `routes: false`; needs `issuer`. */
    followRevocations?: FollowRevocationsOptions
    /**
     * Live sessions one user may hold (a login past it ends the least recently used one), and
     * ended ones the store's registry holds for the user (past it the oldest fold into a
     * cut-off); 50 by default. Needs a store with a `registry`.
     */
    maxSessionsPerUser?: number
  }

  /**
   * `fastify.authenticate`, and what `requireRoles` builds: a hook for `onRequest` or
   * `preHandler`, generic so that it fits routes with any type provider or schema.
   */
  export type AuthHook = <
    RouteGeneric extends RouteGenericInterface = RouteGenericInterface,
    RawServer extends RawServerBase = RawServerDefault,
    RawRequest extends RawRequestDefaultExpression<RawServer> = RawRequestDefaultExpression<RawServer>,
    RawReply extends RawReplyDefaultExpression<RawServer> = RawReplyDefaultExpression<RawServer>,
    ContextConfig = ContextConfigDefault,
    SchemaCompiler extends FastifySchema = FastifySchema,
    TypeProvider extends FastifyTypeProvider = FastifyTypeProviderDefault,
    Logger extends FastifyBaseLogger = FastifyBaseLogger
  >(
    request: FastifyRequest<RouteGeneric, RawServer, RawRequest, SchemaCompiler, TypeProvider, ContextConfig, Logger>,
    reply: FastifyReply<RouteGeneric, RawServer, RawRequest, RawReply, ContextConfig, SchemaCompiler, TypeProvider>,
    done: HookHandlerDoneFunction
  ) => void

  /** One live session, as `GET /@sessions` and `jwtAuth.sessions()` answer it (times in ISO 8601). */
  export interface SessionInfo {
    /** The session id (`sid`). */
    readonly id: string
    readonly createdAt: string
    readonly lastSeenAt: string
    readonly expiresAt: string
    /** `request.ip` at the login or the last renewal. */
    readonly ip: string
    /** The `user-agent` header then (at most 512 characters), `''` without one. */
    readonly userAgent: string
  }

  /** `fastify.jwtAuth`: the plugin's operations for code outside its routes. */
  export interface JwtAuthApi {
    /** Signs a token for `user`, starting a new session. */
    sign (user: SessionUser): string
    /** Verifies a token (signature, claims, revocation) and answers its claims. */
    verify (token: string): Promise<SessionClaims>
    /** Ends the token's session: every token of its `sid`; rejects with 501 without a store. */
    revoke (claims: SessionClaims): Promise<void>
    /** Revokes every session of `sub` logged in until now; rejects with 501 without a store. */
    revokeSubject (sub: string): Promise<void>
    /**
     * `sub`'s live sessions, newest first, as `GET /@sessions` lists them (without `current`).
     * Rejects with 501 when the store has no `registry`, 503 when it fails.
     */
    sessions (sub: string): Promise<SessionInfo[]>
    /**
     * Ends the session `id` of `sub`, as a logout does: `true`; `false` (nothing ended) when
     * `id` is not one of `sub`'s live sessions. Rejects with 501 when the store has no
     * `registry`, 503 when it fails.
     */
    endSession (sub: string, id: string): Promise<boolean>
    /**
     * The store's, the keys' and the revocation feed's states, and whether requests would be
     * served (`ready`): for a readiness route. Synchronous, reads state already held.
     *
     * @example
     * ```ts
     * app.get('/ready', async (request, reply) => {
     *   const health = app.jwtAuth.health()
     *   return reply.code(health.ready ? 200 : 503).send(health)
     * })
     * ```
     */
    health (): Health
  }

  /** The plugin. */
  export const jwtAuth: FastifyJwtSession
  export { jwtAuth as default }

  /**
   * A revocation store in this process's memory, for one instance and for tests.
   *
   * @example
   * ```ts
   * await app.register(jwtAuth, { secret, verifyCredentials, revocationStore: memoryStore() })
   * ```
   */
  export function memoryStore (options?: MemoryStoreOptions): MemoryStore

  /**
   * A revocation store in Redis, shared by every instance and downstream service.
   *
   * @example
   * ```ts
   * const client = new Redis(process.env.REDIS_URL, { enableOfflineQueue: false, maxRetriesPerRequest: 1 })
   * await app.register(jwtAuth, { secret, verifyCredentials, revocationStore: redisStore({ client }) })
   * ```
   */
  export function redisStore (options: RedisStoreOptions): RedisStore

  /** Thrown at registration for an option that cannot be used; the message names it. */
  export class OptionError extends TypeError {}

  /** 401 `FST_JWT_SESSION_NO_TOKEN`: no Bearer credentials. */
  export const NoTokenError: FastifyErrorConstructor
  /** 400 `FST_JWT_SESSION_BAD_REQUEST`: a malformed Authorization header. */
  export const BadRequestError: FastifyErrorConstructor
  /** 401 `FST_JWT_SESSION_INVALID_TOKEN`: bad signature, claims, algorithm or format. */
  export const InvalidTokenError: FastifyErrorConstructor
  /** 401 `FST_JWT_SESSION_EXPIRED_TOKEN`. */
  export const ExpiredTokenError: FastifyErrorConstructor
  /** 401 `FST_JWT_SESSION_REVOKED_TOKEN`: revoked by logout, renew or `all`. */
  export const RevokedTokenError: FastifyErrorConstructor
  /** 401 `FST_JWT_SESSION_TOO_OLD`: renew past `maxSessionAge`. */
  export const SessionTooOldError: FastifyErrorConstructor
  /** 401 `FST_JWT_SESSION_INVALID_CREDENTIALS`: login refused. */
  export const InvalidCredentialsError: FastifyErrorConstructor
  /** 403 `FST_JWT_SESSION_FORBIDDEN`: `requireRoles` refused. */
  export const ForbiddenError: FastifyErrorConstructor
  /** 501 `FST_JWT_SESSION_LOGOUT_UNSUPPORTED`: logout with no store. */
  export const LogoutUnsupportedError: FastifyErrorConstructor
  /** 503 `FST_JWT_SESSION_STORE_UNAVAILABLE`: the store failed or timed out. */
  export const StoreUnavailableError: FastifyErrorConstructor
  /** 503 `FST_JWT_SESSION_KEYS_UNAVAILABLE`: a verify-only service could not fetch the issuer's JWKS. */
  export const KeysUnavailableError: FastifyErrorConstructor
  /** 403 `FST_JWT_SESSION_CSRF`: a state-changing request authenticated by cookie without the session's CSRF token. */
  export const CsrfError: FastifyErrorConstructor
  /** 429 `FST_JWT_SESSION_TOO_MANY_ATTEMPTS`: too many failed logins; with `Retry-After`. */
  export const TooManyAttemptsError: FastifyErrorConstructor
  /** 401 `FST_JWT_SESSION_INSUFFICIENT_AUTHENTICATION`: `requireFresh` refused a login older than its `maxAge` (RFC 9470). */
  export const InsufficientAuthenticationError: FastifyErrorConstructor
  /** 404 `FST_JWT_SESSION_NOT_FOUND`: `DELETE /@sessions/:id` of an id that is not one of the caller's live sessions. */
  export const SessionNotFoundError: FastifyErrorConstructor
  /** 429 `FST_JWT_SESSION_RENEWED_TOO_SOON`: a session's newest token renewed less than a second after the last renewal; `Retry-After: 1`. */
  export const RenewTooSoonError: FastifyErrorConstructor
}

/**
 * The plugin: register it once to get `POST /@login`, `POST /@login-renew`, `POST /@logout`,
 * `request.authenticate()`, `fastify.authenticate` and `fastify.requireRoles`.
 *
 * @example
 * ```ts
 * import jwtAuth, { memoryStore } from 'fastify-jwt-session'
 * await app.register(jwtAuth, { secret: process.env.JWT_SECRET, verifyCredentials, revocationStore: memoryStore() })
 * app.get('/me', { onRequest: app.authenticate }, async (request) => request.user)
 * ```
 */
declare function fastifyJwtSession (...params: Parameters<FastifyJwtSession>): ReturnType<FastifyJwtSession>
export = fastifyJwtSession
