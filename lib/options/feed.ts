import type { JwtSessionOptions, RevocationStore } from '../types'
import { fail, isPlainObject, rejectUnknownKeys, toSeconds } from './checks'
import { DEFAULTS, FEED_OPTIONS, FOLLOW_OPTIONS } from './defaults'
import { secureUrl } from './key-source'
import type { KeySource, ResolvedFeed, ResolvedFollow, ResolvedRoutes } from './resolved'

/* The revocation feed's two faces: publishing it (`revocationFeed`) and following one (`followRevocations`). */

/** The history methods a store needs to serve a feed. */
const HISTORY_METHODS = ['snapshot', 'changesSince', 'watch'] as const

/** What the feed options are checked against: the rest of the options, resolved. */
interface Context {
  readonly keySource: KeySource
  readonly issuer: string | undefined
  readonly store: RevocationStore | undefined
  readonly routes: ResolvedRoutes
  readonly verifyOnly: boolean
}

/** `revocationFeed`: an `authorize` function, an issuer, a key that signs, and a store with a history. */
export function resolveFeed (feed: unknown, context: Context): ResolvedFeed | undefined {
  if (feed === undefined) return undefined
  if (!isPlainObject(feed)) fail('revocationFeed must be an object such as { authorize }')
  rejectUnknownKeys(feed, FEED_OPTIONS, 'revocationFeed.', 'revocationFeed option')
  if (typeof feed.authorize !== 'function') fail('revocationFeed.authorize is required: a function of the request that decides who may read the feed')
  if (context.issuer === undefined) fail('revocationFeed needs issuer: every event names it, and followers check it')
  if (context.verifyOnly) fail('revocationFeed needs a key that signs: this service only verifies tokens')
  if (context.store === undefined) fail('revocationFeed needs a revocationStore: the feed publishes what it records')
  const history = (context.store as { history?: unknown }).history
  const missing = HISTORY_METHODS.filter((method) => !isPlainObject(history) || typeof history[method] !== 'function')
  if (missing.length > 0) {
    fail(`revocationFeed needs a revocationStore with a history: this one lacks ${missing.map((method) => `history.${method}()`).join(', ')}`)
  }
  if (context.routes.revocations === false) fail('revocationFeed needs routes.revocations: it is served there')
  return Object.freeze({ authorize: feed.authorize as ResolvedFeed['authorize'] })
}

/** `followRevocations`: a verify-only service (or one with a secret and no routes) with an issuer and no store. */
export function resolveFollow (options: JwtSessionOptions, context: Context): ResolvedFollow | undefined {
  const follow: unknown = options.followRevocations
  if (follow === undefined) return undefined
  if (!isPlainObject(follow)) fail('followRevocations must be an object such as { url }')
  rejectUnknownKeys(follow, FOLLOW_OPTIONS, 'followRevocations.', 'followRevocations option')
  if (context.issuer === undefined) fail('followRevocations needs issuer: only events of that issuer are applied')
  if (context.store !== undefined) fail('followRevocations cannot be used with revocationStore: the feed is this service\'s store')
  if (!(context.keySource.kind === 'jwks' || (context.keySource.kind === 'secret' && options.routes === false))) {
    fail('followRevocations is for a service that only verifies: with jwks, or with secret and routes: false')
  }
  const headers = follow.headers ?? {}
  if (!isPlainObject(headers) || !Object.values(headers).every((value) => typeof value === 'string')) {
    fail('followRevocations.headers must be an object of header names and string values')
  }
  return Object.freeze({
    url: secureUrl('followRevocations.url', follow.url),
    headers: Object.freeze({ ...headers as Record<string, string> }),
    maxStaleness: toSeconds('followRevocations.maxStaleness', follow.maxStaleness ?? DEFAULTS.followRevocations.maxStaleness) * 1000
  })
}
