/**
 * The public types live in `index.d.ts`, the package's one type entry; the library imports
 * them from there so that the two can never drift apart.
 */
export type {
  AttemptCounter, AttemptLimit, Health, PartHealth, AuditHooks, AuthHook, CookieOptions, CredentialsOf, CredentialsSchema, FollowRevocationsOptions, LoginEvent, LoginFailedEvent, LogoutEvent, RenewEvent, ReuseEvent, Credentials, Duration, LoginThrottleOptions, JwksOptions, JwtAuthApi, JwtKey, JwtSessionOptions, MemorySessionRegistry, MemoryStore, MemoryStoreHistory, MemoryStoreOptions,
  RedisClient, RedisPipeline, RedisSessionRegistry, RedisSubscriber, RedisStore, RedisStoreOptions, RevocationChange, RevocationFeedOptions, RevocationHistory, RevocationSnapshot, RevocationStore, SessionEntry, SessionEvictedEvent, SessionFold, SessionInfo, SessionRecord, SessionRegistry, RoutePath, RoutesOptions, SessionClaims, SessionExtraClaims, SessionUser
} from '../index'
