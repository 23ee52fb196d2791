/**
 * Which verified tokens are worth caching: a token is admitted on its second sighting.
 *
 * A token seen once and never again (a new token on every request) would otherwise enter the
 * cache, outlive a young-generation collection there, and die in the old generation, where it
 * costs a full one: with cheap HMAC verification that made a cache miss 15% dearer than no
 * cache at all. Sightings are kept as fingerprints in a fixed table, so remembering a one-off
 * token allocates nothing. A fingerprint collision only admits a token a sighting
 * early; the cache itself compares the exact token string.
 */
export type Admission = (print: number) => boolean

/**
 * Characters fingerprinted, from the end: the signature, the part that differs most (96
 * random bits in 16 base64url characters), and the part a token shares with the
 * `Authorization` header that carries it.
 */
const FINGERPRINT_CHARS = 16

/**
 * FNV-1a over the last characters of `text`, kept to 30 bits so that V8 keeps it a small
 * integer, which a Map hashes without reading any string. A token and a header ending with
 * it have the same fingerprint.
 */
export function fingerprint (text: string): number {
  let hash = 0x811c9dc5
  for (let index = Math.max(0, text.length - FINGERPRINT_CHARS); index < text.length; index++) {
    hash = Math.imul(hash ^ text.charCodeAt(index), 0x01000193)
  }
  return hash & 0x3fffffff
}

/** Fingerprints per bucket of the sighting table. */
const WAYS = 8

/**
 * Remembers the fingerprints of about the last `size` one-off tokens, in a fixed table of
 * buckets of `WAYS` fingerprints each, newest first: a sighting reads one bucket and shifts
 * it, with no allocation (a Set churned by every one-off token cost about 1 µs per miss). A
 * bucket that fills forgets its oldest fingerprint, so that token waits one sighting more;
 * a fingerprint found in its bucket was seen before.
 */
export function secondSighting (size: number): Admission {
  let slots = WAYS
  while (slots < size) slots *= 2
  const buckets = slots / WAYS - 1
  // Stored plus one, so that an empty slot (0) matches no fingerprint.
  const table = new Int32Array(slots)
  return (print) => {
    const mark = print + 1
    const start = (print & buckets) * WAYS
    const end = start + WAYS - 1
    for (let index = start; index <= end; index++) {
      if (table[index] === mark) return true
    }
    for (let index = end; index > start; index--) table[index] = table[index - 1] as number
    table[start] = mark
    return false
  }
}
