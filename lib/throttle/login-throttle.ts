import { createHash } from 'node:crypto'
import { isIPv4 } from 'node:net'
import ipaddr from 'ipaddr.js'
import type { FastifyRequest } from 'fastify'
import { StoreUnavailableError, tooManyAttempts } from '../errors'
import type { ResolvedLoginThrottle } from '../options/resolved'
import { callStoreNow, isThenable } from '../sessions/store-calls'
import { memoryAttempts } from '../stores/memory/attempts'
import type { Credentials } from '../types'

/**
 * The plugin's side of login throttling. Each login attempt is counted before the host's
 * verifier runs, and uncounted when it succeeds, so only failures stay counted; an attempt
 * over a limit is refused (429) without asking the verifier, so a throttled attacker learns
 * nothing, not even from a right password. A refused attempt counts under neither limit.
 */
export interface LoginThrottle {
  /**
   * Counts this attempt under each limit, or throws the 429 (or, if the counter fails, 503).
   * With a synchronous counter (the memory one) it answers at once, with no promise.
   */
  admit (request: FastifyRequest, credentials: Credentials & Record<string, unknown>): readonly string[] | Promise<readonly string[]>
  /** The login succeeded: its attempt is not a failure. At once with a synchronous counter. */
  release (keys: readonly string[]): void | Promise<void>
}

const NO_KEYS: readonly string[] = Object.freeze([])

/** No throttle: nothing counted, nothing refused. */
const NO_THROTTLE: LoginThrottle = Object.freeze({
  admit: () => NO_KEYS,
  release: () => undefined
})

/**
 * The counter key of a login name: case and Unicode width folded (so `Admin` and `ＡＤＭＩＮ`
 * share one budget), then hashed, so the counter never stores what users typed (some type
 * their password in the login field) and every key has the same length.
 */
export function loginKey (name: string): string {
  return 'login:' + createHash('sha256').update(name.normalize('NFKC').toLowerCase()).digest('base64url')
}

/**
 * The counter key of a client address: an IPv4 address as it is (an IPv4-mapped IPv6
 * address too), an IPv6 address by its /64 network, the smallest block a client usually
 * holds, so that an attacker does not get a fresh budget per address of its own network.
 */
export function addressKey (ip: string): string {
  // The usual case, at once: a dotted quad as Node writes it is already what ipaddr.js would print.
  if (isIPv4(ip)) return `addr:${ip}`
  if (!ipaddr.isValid(ip)) return `addr:${ip}`
  const address = ipaddr.process(ip)
  if (address.kind() === 'ipv4') return `addr:${address.toString()}`
  return `addr:${(address as ipaddr.IPv6).toNormalizedString().split(':').slice(0, 4).join(':')}::/64`
}

/** One limit of one attempt: the counter key, and the limit's maximum and window. */
type Limit = readonly [key: string, max: number, windowMs: number]

/**
 * Binds the throttle's limits to its counter; `false` throttles nothing. A synchronous
 * counter is answered synchronously throughout: no promise, no timer, no closure per login.
 * Either way it fails closed the same: a counter that throws, rejects, answers late or
 * answers something other than a number of milliseconds makes the login a 503.
 */
export function createLoginThrottle (throttle: ResolvedLoginThrottle | false, storeTimeout: number): LoginThrottle {
  if (throttle === false) return NO_THROTTLE
  const { perLogin, perAddress, loginName } = throttle
  const counter = throttle.counter ?? memoryAttempts()

  /** A counter's answer to `take`: a number of milliseconds, or the 503. */
  function waitOf (wait: unknown): number {
    if (typeof wait !== 'number' || !(wait >= 0)) {
      throw new StoreUnavailableError({ cause: new TypeError(`the attempt counter's take() answered ${String(wait)}, not a number of milliseconds`) })
    }
    return wait
  }

  /** Counts under `key`; an answer that is not a number of milliseconds fails closed. */
  function take ([key, max, windowMs]: Limit): number | Promise<number> {
    const wait = callStoreNow(() => counter.take(key, max, windowMs), storeTimeout)
    return isThenable(wait) ? wait.then(waitOf) : waitOf(wait)
  }

  function release (keys: readonly string[], from = 0): void | Promise<void> {
    for (let index = from; index < keys.length; index++) {
      const key = keys[index] as string
      const done = callStoreNow(() => counter.release(key), storeTimeout)
      if (isThenable(done)) return done.then(() => release(keys, index + 1))
    }
  }

  /** Refused: what this attempt counted under the other limit is given back, then the 429. */
  function refuse (taken: readonly string[], wait: number): never | Promise<never> {
    const released = release(taken)
    if (isThenable(released)) return released.then(() => { throw tooManyAttempts(wait) })
    throw tooManyAttempts(wait)
  }

  /** Counts under `limits[index]` on, once an asynchronous counter answered `wait` for it. */
  async function admitLater (limits: readonly Limit[], index: number, taken: string[], wait: number): Promise<readonly string[]> {
    for (;;) {
      if (wait > 0) return await refuse(taken, wait)
      taken.push((limits[index] as Limit)[0])
      if (++index === limits.length) return taken
      wait = await take(limits[index] as Limit)
    }
  }

  return Object.freeze({
    admit (request: FastifyRequest, credentials: Credentials & Record<string, unknown>): readonly string[] | Promise<readonly string[]> {
      // The address first: refused there, the attempt touches nothing else, so one address
      // creates at most its limit's worth of name counters per window, however many names it
      // tries. Counted under the name first, each refused guess would leave a counter behind.
      const limits: Limit[] = []
      if (perAddress !== false) limits.push([addressKey(request.ip), perAddress.max, perAddress.window])
      const name = perLogin === false ? undefined : loginName(credentials)
      if (perLogin !== false && typeof name === 'string') limits.push([loginKey(name), perLogin.max, perLogin.window])
      const taken: string[] = []
      for (let index = 0; index < limits.length; index++) {
        const wait = take(limits[index] as Limit)
        if (isThenable(wait)) return wait.then((value) => admitLater(limits, index, taken, value))
        if (wait > 0) return refuse(taken, wait)
        taken.push((limits[index] as Limit)[0])
      }
      return taken
    },
    release: (keys: readonly string[]) => release(keys)
  })
}
