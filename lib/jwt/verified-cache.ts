import { fingerprint, secondSighting } from './admission'

/**
 * The spelling of an Authorization header that the cache answers at once: the scheme as
 * RFC 6750 §2.1 writes it and one space. Any other spelling is parsed, then looked up by token.
 */
export const BEARER_PREFIX = 'Bearer '

/** One cached verification. */
export interface CacheEntry<T> {
  /** `BEARER_PREFIX` + the exact token string, flat: compared in full on every hit. */
  readonly header: string
  readonly result: T
  /** When the token stops being valid, leeway included, in ms since the epoch. */
  readonly expiresAtMs: number
  /** Hit since the eviction hand last passed: the entry gets a second chance. */
  used: boolean
}

/**
 * The verified-token cache. Keyed by a small-integer fingerprint of the token's tail, which
 * a request's header shares, so a lookup neither hashes nor slices the ~300-character header
 * that arrives as a new string on every request. The fingerprint only finds a candidate: a
 * hit needs the whole token string to be equal, so no other string can ever get an entry's
 * result. Two tokens with one fingerprint share a slot, the later replacing the earlier.
 */
export interface VerifiedCache<T> {
  /**
   * The entry cached for exactly the token of `header`, when `header` is `BEARER_PREFIX`
   * followed by it; undefined for a miss. Expiry is the caller's to check, on every hit.
   */
  byHeader (header: string): CacheEntry<T> | undefined
  /** The entry cached for exactly `token`, or undefined. */
  byToken (token: string): CacheEntry<T> | undefined
  /** Remembers a verified token, from its second sighting on (see admission.ts). */
  offer (token: string, result: T, expiresAtMs: number): void
}

/** A cache that holds nothing, for `cacheSize` 0: every token is verified anew. */
const NO_CACHE: VerifiedCache<never> = Object.freeze({
  byHeader: () => undefined,
  byToken: () => undefined,
  offer: () => {}
})

/**
 * A cache of at most `size` verified tokens. Eviction is second-chance (CLOCK): the oldest
 * entry goes unless it was hit since it was last passed over, in which case it moves to the
 * back. A hit costs one field write instead of an LRU's reordering.
 */
export function createVerifiedCache<T> (size: number): VerifiedCache<T> {
  if (size <= 0) return NO_CACHE
  const entries = new Map<number, CacheEntry<T>>()
  const worthCaching = secondSighting(size)

  /** Drops the oldest entry not hit since it was last passed over. */
  function evictOne (): void {
    // Called on a full cache; entries moved to the back come round again with `used` cleared, so it ends.
    for (;;) {
      const [key, entry] = entries.entries().next().value as [number, CacheEntry<T>]
      entries.delete(key)
      if (!entry.used) return
      entry.used = false
      entries.set(key, entry)
    }
  }

  return {
    byHeader (header) {
      const entry = entries.get(fingerprint(header))
      if (entry === undefined || entry.header !== header) return undefined
      entry.used = true
      return entry
    },
    byToken (token) {
      const entry = entries.get(fingerprint(token))
      // The entry's header is the prefix and a token: the same length and tail make it this token.
      if (entry === undefined || entry.header.length !== BEARER_PREFIX.length + token.length || !entry.header.endsWith(token)) return undefined
      entry.used = true
      return entry
    },
    offer (token, result, expiresAtMs) {
      const print = fingerprint(token)
      if (!worthCaching(print)) return
      if (!entries.has(print) && entries.size >= size) evictOne()
      // join makes a flat string, which the comparison on every hit reads at memcmp speed.
      entries.set(print, { header: [BEARER_PREFIX, token].join(''), result, expiresAtMs, used: false })
    }
  }
}
