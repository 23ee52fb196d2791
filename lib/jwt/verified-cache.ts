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
 * A cache of at most `size` verified tokens. Eviction is second-chance (CLOCK) over a fixed
 * ring of slots: the hand drops the first entry not hit since it last passed, and clears the
 * mark of each one that was. A hit costs one field write instead of an LRU's reordering; an
 * eviction writes one slot and deletes one key, with no Map reinsertion and no iterator (the
 * hand clears each hit's mark at most once, so an eviction is O(1) amortized).
 */
export function createVerifiedCache<T> (size: number): VerifiedCache<T> {
  if (size <= 0) return NO_CACHE
  const entries = new Map<number, CacheEntry<T>>()
  // The fingerprint each slot holds: every key of `entries` is in exactly one of the first `filled` slots.
  const ring = new Int32Array(size)
  let filled = 0
  let hand = 0
  const worthCaching = secondSighting(size)

  /** Gives `print`, not yet cached, a slot: a free one while the cache fills, then the hand's. */
  function place (print: number): void {
    if (filled < size) {
      ring[filled++] = print
      return
    }
    // Ends within one turn of the ring after the last hit: the hand clears each mark it passes.
    for (;;) {
      const slot = hand
      hand = slot + 1 === size ? 0 : slot + 1
      const held = ring[slot] as number
      const entry = entries.get(held) as CacheEntry<T>
      if (!entry.used) {
        entries.delete(held)
        ring[slot] = print
        return
      }
      entry.used = false
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
      // A token with the fingerprint of a cached one takes over its slot.
      if (!entries.has(print)) place(print)
      // join makes a flat string, which the comparison on every hit reads at memcmp speed.
      entries.set(print, { header: [BEARER_PREFIX, token].join(''), result, expiresAtMs, used: false })
    }
  }
}
