import { fail, isPlainObject, rejectUnknownKeys, wholeNumber } from '../../options/checks'
import { DEFAULTS, MEMORY_STORE_OPTIONS } from '../../options/defaults'
import type { MemoryStore, MemoryStoreOptions } from '../../types'
import { cutoffOf, entry, expiryOf, type Entry } from './entry'

/** Thrown by `revoke` when the store is full of live entries. */
class MemoryStoreFullError extends Error {
  override name = 'MemoryStoreFullError'
}

/**
 * A revocation store in this process's memory: for one instance, and for tests.
 * Revocations do not survive a restart and are not shared between processes; use
 * `redisStore` for that. Every call answers synchronously, so `authenticate` costs no
 * promise and no timer. Each entry is dropped once the tokens it blocks have expired.
 *
 * @example
 * ```ts
 * await app.register(jwtAuth, { secret, verifyCredentials, revocationStore: memoryStore() })
 * ```
 */
export function memoryStore (options: MemoryStoreOptions = {}): MemoryStore {
  if (!isPlainObject(options)) fail('memoryStore options must be an object')
  rejectUnknownKeys(options, MEMORY_STORE_OPTIONS, 'memoryStore ', 'memoryStore option')
  const maxEntries = wholeNumber('memoryStore maxEntries', options.maxEntries ?? DEFAULTS.memoryStore.maxEntries, 1, 'a positive whole number')
  // A Map keeps insertion order, which is roughly expiry order.
  const entries = new Map<string, Entry>()
  let sweptAt = 0

  /** Drops the expired entries at the front: cheap, and it keeps the map near its live size. */
  function dropExpiredFront (now: number): void {
    for (const [key, value] of entries) {
      if (expiryOf(value) > now) return
      entries.delete(key)
    }
  }

  /** Drops every expired entry; at most once a second, so a full store of live entries stays cheap. */
  function sweep (now: number): void {
    if (now === sweptAt) return
    sweptAt = now
    for (const [key, value] of entries) {
      if (expiryOf(value) <= now) entries.delete(key)
    }
  }

  return {
    get size () {
      return entries.size
    },
    revoke (key, cutoff, expiresAt) {
      const now = Math.floor(Date.now() / 1000)
      const existing = entries.get(key)
      if (existing !== undefined && expiryOf(existing) > now) {
        if (cutoffOf(existing) >= cutoff) return false
        entries.set(key, entry(cutoff, Math.max(expiryOf(existing), expiresAt)))
        return true
      }
      // The tokens it would block have expired already: nothing to keep.
      if (expiresAt <= now) return true
      // An expired entry is re-added at the back, where its new expiry belongs.
      if (existing !== undefined) entries.delete(key)
      dropExpiredFront(now)
      if (entries.size >= maxEntries) sweep(now)
      if (entries.size >= maxEntries) throw new MemoryStoreFullError(`memoryStore holds ${maxEntries} live revocations`)
      entries.set(key, entry(cutoff, expiresAt))
      return true
    },
    cutoff (keys) {
      // Called on every request, nearly always for keys with no entry: the clock is read only for an entry.
      let now: number | undefined
      let latest: number | undefined
      for (const key of keys) {
        const value = entries.get(key)
        if (value === undefined) continue
        now ??= Math.floor(Date.now() / 1000)
        if (expiryOf(value) <= now) continue
        const cutoff = cutoffOf(value)
        if (latest === undefined || cutoff > latest) latest = cutoff
      }
      return latest
    }
  }
}
