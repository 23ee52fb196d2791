import type { AttemptCounter, AuditHooks, Credentials, JwtSessionOptions, RevocationStore } from './types'
import { fail, isPlainObject, optionalFunction, toSeconds, wholeNumber } from './option-checks'
import { memoryAttempts } from './stores/memory-attempts'

/*
 * The options of what the routes do around tokens: the login throttle, cookie mode and the
 * audit hooks. Checked once, at registration, like every other option.
 */

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

/** The login name of the default body: `credentials.login`. */
export const defaultLoginName = (credentials: Credentials & Record<string, unknown>): string | undefined =>
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

/** The login throttle, on by default; `false` when turned off or when there is no login route. */
export function resolveLoginThrottle (throttle: unknown, store: RevocationStore | undefined, loginRoute: string | false): ResolvedLoginThrottle | false {
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

/** Cookie mode, off by default. */
export function resolveCookie (cookie: unknown): ResolvedCookie | false {
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

/** The host's audit hooks, each a function or absent. */
export function resolveAudit (options: JwtSessionOptions): Readonly<AuditHooks> {
  return Object.freeze({
    onLogin: optionalFunction<AuditHooks['onLogin']>('onLogin', options.onLogin),
    onLoginFailed: optionalFunction<AuditHooks['onLoginFailed']>('onLoginFailed', options.onLoginFailed),
    onRenew: optionalFunction<AuditHooks['onRenew']>('onRenew', options.onRenew),
    onLogout: optionalFunction<AuditHooks['onLogout']>('onLogout', options.onLogout)
  })
}
