import { createHash } from 'node:crypto'
import ipaddr from 'ipaddr.js'
import type { FastifyRequest } from 'fastify'
import { StoreUnavailableError, tooManyAttempts } from '../errors'
import type { ResolvedLoginThrottle } from '../options/resolved'
import { callStore } from '../sessions/store-calls'
import { memoryAttempts } from '../stores/memory/attempts'
import type { Credentials } from '../types'

/**
 * The plugin's side of login throttling. Each login attempt is counted before the host's
 * verifier runs, and uncounted when it succeeds, so only failures stay counted; an attempt
 * over a limit is refused (429) without asking the verifier, so a throttled attacker learns
 * nothing, not even from a right password.
 */
export interface LoginThrottle {
  /** Counts this attempt under each limit, or throws the 429 (or, if the counter fails, 503). */
  admit (request: FastifyRequest, credentials: Credentials & Record<string, unknown>): Promise<readonly string[]>
  /** The login succeeded: its attempt is not a failure. */
  release (keys: readonly string[]): Promise<void>
}

const NO_KEYS: readonly string[] = Object.freeze([])

/** No throttle: nothing counted, nothing refused. */
const NO_THROTTLE: LoginThrottle = Object.freeze({
  admit: async () => NO_KEYS,
  release: async () => {}
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
  if (!ipaddr.isValid(ip)) return `addr:${ip}`
  const address = ipaddr.process(ip)
  if (address.kind() === 'ipv4') return `addr:${address.toString()}`
  return `addr:${(address as ipaddr.IPv6).toNormalizedString().split(':').slice(0, 4).join(':')}::/64`
}

/** Binds the throttle's limits to its counter; `false` throttles nothing. */
export function createLoginThrottle (throttle: ResolvedLoginThrottle | false, storeTimeout: number): LoginThrottle {
  if (throttle === false) return NO_THROTTLE
  const { perLogin, perAddress, loginName } = throttle
  const counter = throttle.counter ?? memoryAttempts()

  /** Counts under `key`; an answer that is not a number of milliseconds fails closed. */
  async function take (key: string, limit: number, windowMs: number): Promise<number> {
    const wait = await callStore(() => counter.take(key, limit, windowMs), storeTimeout)
    if (typeof wait !== 'number' || !(wait >= 0)) {
      throw new StoreUnavailableError({ cause: new TypeError(`the attempt counter's take() answered ${String(wait)}, not a number of milliseconds`) })
    }
    return wait
  }

  async function release (keys: readonly string[]): Promise<void> {
    for (const key of keys) await callStore(() => counter.release(key), storeTimeout)
  }

  return Object.freeze({
    async admit (request: FastifyRequest, credentials: Credentials & Record<string, unknown>): Promise<readonly string[]> {
      const limits: Array<[string, number, number]> = []
      const name = perLogin === false ? undefined : loginName(credentials)
      if (perLogin !== false && typeof name === 'string') limits.push([loginKey(name), perLogin.max, perLogin.window])
      if (perAddress !== false) limits.push([addressKey(request.ip), perAddress.max, perAddress.window])
      const taken: string[] = []
      for (const [key, max, windowMs] of limits) {
        const wait = await take(key, max, windowMs)
        if (wait > 0) {
          // Refused: what this attempt counted under the other limit is given back.
          await release(taken)
          throw tooManyAttempts(wait)
        }
        taken.push(key)
      }
      return taken
    },
    release
  })
}
