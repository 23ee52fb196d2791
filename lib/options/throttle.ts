import { internalError } from '../errors'
import type { AttemptCounter, Credentials, RevocationStore } from '../types'
import { fail, isPlainObject, optionalFunction, rejectUnknownKeys, toSeconds, wholeNumber } from './checks'
import { DEFAULTS, THROTTLE_OPTIONS } from './defaults'
import type { LoginName, ResolvedAttemptLimit, ResolvedLoginThrottle } from './resolved'

/* The `loginThrottle` option: on by default, checked once at registration. */

/** The login name of the default body: `credentials.login`. */
export const defaultLoginName: LoginName = (credentials: Credentials & Record<string, unknown>) =>
  typeof credentials.login === 'string' ? credentials.login : undefined

function resolveAttemptLimit (name: 'perLogin' | 'perAddress', value: unknown): ResolvedAttemptLimit | false {
  if (value === false) return false
  const limit = value ?? DEFAULTS.loginThrottle[name]
  if (!isPlainObject(limit) || Object.keys(limit).some((key) => key !== 'max' && key !== 'window')) {
    fail(`loginThrottle.${name} must be false or { max, window }`)
  }
  return Object.freeze({
    max: wholeNumber(`loginThrottle.${name}.max`, limit.max, 1, 'a whole number of failed logins, 1 or more'),
    window: toSeconds(`loginThrottle.${name}.window`, limit.window ?? DEFAULTS.loginThrottle[name].window) * 1000
  })
}

/**
 * The host's `loginName`, whose throw (a host bug) becomes a plain 500: its message never
 * reaches the client.
 */
function guarded (loginName: LoginName | undefined): LoginName | undefined {
  if (loginName === undefined) return undefined
  return (credentials) => {
    try {
      return loginName(credentials)
    } catch (error) {
      throw internalError(error)
    }
  }
}

function isAttemptCounter (value: unknown): value is AttemptCounter {
  return isPlainObject(value) && typeof value.take === 'function' && typeof value.release === 'function'
}

/** The counter a store offers for login attempts (the Redis store's), if it offers one. */
function storeCounter (store: RevocationStore | undefined): AttemptCounter | undefined {
  const attempts = (store as { attempts?: unknown } | undefined)?.attempts
  return isAttemptCounter(attempts) ? attempts : undefined
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
  rejectUnknownKeys(throttle, THROTTLE_OPTIONS, 'loginThrottle.', 'loginThrottle option')
  if (throttle.counter !== undefined && !isAttemptCounter(throttle.counter)) {
    fail('loginThrottle.counter must have take() and release() methods')
  }
  return Object.freeze({
    perLogin: resolveAttemptLimit('perLogin', throttle.perLogin),
    perAddress: resolveAttemptLimit('perAddress', throttle.perAddress),
    loginName: guarded(optionalFunction<LoginName>('loginThrottle.loginName', throttle.loginName)) ?? defaultLoginName,
    counter: (throttle.counter as AttemptCounter | undefined) ?? storeCounter(store)
  })
}
