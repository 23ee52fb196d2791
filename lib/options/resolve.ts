import { Kind, Type, type TSchema } from '@sinclair/typebox'
import type { JwtSessionOptions, RevocationStore } from '../types'
import { resolveAudit } from './audit'
import { fail, isPlainObject, optionalFunction, optionalString, rejectUnknownKeys, toSeconds, wholeNumber } from './checks'
import { resolveCookie } from './cookie'
import { DEFAULTS, PLUGIN_OPTIONS } from './defaults'
import { resolveFeed, resolveFollow } from './feed'
import { resolveKeySource } from './key-source'
import type { ResolvedOptions } from './resolved'
import { resolveRoutes, resolveVerifyOnlyRoutes } from './routes'
import { resolveSessions } from './sessions'
import { defaultLoginName, resolveLoginThrottle } from './throttle'

/** The login body when the host gives no `credentialsSchema`; bounded so no verifier hashes megabytes. */
const DEFAULT_CREDENTIALS_SCHEMA = Type.Object({
  login: Type.String({ minLength: 1, maxLength: 256 }),
  password: Type.String({ minLength: 1, maxLength: 1024 })
}, { additionalProperties: false })

/** The same, as Plone takes it: other fields are ignored rather than refused. */
const PLONE_CREDENTIALS_SCHEMA = Type.Object(DEFAULT_CREDENTIALS_SCHEMA.properties, { additionalProperties: true })

/** The `compat` option: `'plone'`, or nothing. */
function resolveCompat (compat: unknown): 'plone' | undefined {
  if (compat !== undefined && compat !== 'plone') fail(`compat must be 'plone', got ${JSON.stringify(compat)}`)
  return compat
}

/** Every method a revocation store has. */
const STORE_METHODS = ['session', 'subject', 'renew', 'end', 'endSubject'] as const satisfies ReadonlyArray<keyof RevocationStore>

function resolveStore (store: unknown): RevocationStore | undefined {
  if (store === undefined) return undefined
  if (!isPlainObject(store) || !STORE_METHODS.every((method) => typeof store[method] === 'function')) {
    fail(`revocationStore must have the methods ${STORE_METHODS.map((method) => `${method}()`).join(', ')}`)
  }
  return store as unknown as RevocationStore
}

/** Whole seconds, 0 allowed: `renewGrace`. */
function seconds (name: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) fail(`${name} must be a whole number of seconds, 0 or more`)
  return value
}

/**
 * Validates the plugin options once, at registration, and returns them defaulted and frozen.
 * Throws an `OptionError` naming the option at the first problem; never mutates `options`.
 */
export function resolveOptions (options: JwtSessionOptions<never>): ResolvedOptions {
  if (!isPlainObject(options)) fail('options must be an object')
  rejectUnknownKeys(options, PLUGIN_OPTIONS, '', 'option')

  const warnings: string[] = []
  const keySource = resolveKeySource(options, warnings)
  // An issuer's JWKS signs tokens for many audiences (OIDC ID tokens of other clients among them).
  if (keySource.kind === 'jwks' && options.audience === undefined) {
    fail('audience is required with jwks: give the audience this service expects in its tokens, or audience: false to accept any')
  }
  // No key here signs: no login, renew or logout route, no JWKS.
  const verifyOnly = keySource.kind === 'jwks' || (keySource.kind === 'keys' && !keySource.keys.some((key) => key.privateKey !== undefined))

  const expiresIn = toSeconds('expiresIn', options.expiresIn ?? DEFAULTS.expiresIn)
  const maxSessionAge = options.maxSessionAge === false ? Infinity : toSeconds('maxSessionAge', options.maxSessionAge ?? DEFAULTS.maxSessionAge)
  if (maxSessionAge < expiresIn) fail('maxSessionAge must not be shorter than expiresIn')

  const clockTolerance = options.clockTolerance ?? DEFAULTS.clockTolerance
  if (typeof clockTolerance !== 'number' || !Number.isFinite(clockTolerance) || clockTolerance < 0 || clockTolerance > 300) {
    fail('clockTolerance must be a number of seconds from 0 to 300')
  }

  const compat = resolveCompat(options.compat)
  const credentialsSchema: unknown = options.credentialsSchema ?? (compat === 'plone' ? PLONE_CREDENTIALS_SCHEMA : DEFAULT_CREDENTIALS_SCHEMA)
  if (!isPlainObject(credentialsSchema) || !(Kind in credentialsSchema)) fail('credentialsSchema must be a TypeBox schema')

  const revocationStore = resolveStore(options.revocationStore)
  const sessions = resolveSessions(options, revocationStore, verifyOnly ? resolveVerifyOnlyRoutes(options) : resolveRoutes(options.routes))
  const { routes } = sessions
  const verifyCredentials = optionalFunction<ResolvedOptions['verifyCredentials']>('verifyCredentials', options.verifyCredentials)
  if (routes.login !== false && verifyCredentials === undefined) {
    fail('verifyCredentials is required while the login route is on (set routes.login to false to turn it off)')
  }

  const issuer = optionalString('issuer', options.issuer)
  const feedContext = { keySource, issuer, store: revocationStore, routes, verifyOnly }
  const loginThrottle = resolveLoginThrottle(options.loginThrottle, revocationStore, routes.login)

  return Object.freeze({
    keySource,
    expiresIn,
    maxSessionAge,
    clockTolerance,
    issuer,
    audience: options.audience === false ? undefined : optionalString('audience', options.audience),
    verifyCredentials,
    credentialsSchema: credentialsSchema as TSchema,
    loadUser: optionalFunction<ResolvedOptions['loadUser']>('loadUser', options.loadUser),
    revocationStore,
    renewGrace: seconds('renewGrace', options.renewGrace ?? DEFAULTS.renewGrace),
    idleTimeout: (options.idleTimeout ?? DEFAULTS.idleTimeout) === false ? 0 : toSeconds('idleTimeout', options.idleTimeout),
    storeTimeout: wholeNumber('storeTimeout', options.storeTimeout ?? DEFAULTS.storeTimeout, 1, 'a positive whole number of milliseconds'),
    cacheSize: wholeNumber('cacheSize', options.cacheSize ?? DEFAULTS.cacheSize, 0, 'a whole number of tokens, 0 or more'),
    routes,
    registry: sessions.registry,
    maxSessionsPerUser: sessions.maxSessionsPerUser,
    loginThrottle,
    loginName: loginThrottle === false ? defaultLoginName : loginThrottle.loginName,
    cookie: resolveCookie(options.cookie, warnings),
    compat,
    audit: resolveAudit(options),
    revocationFeed: resolveFeed(options.revocationFeed, feedContext),
    followRevocations: resolveFollow(options, feedContext),
    warnings: Object.freeze(warnings)
  })
}
