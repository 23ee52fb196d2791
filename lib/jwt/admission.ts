/**
 * Which verified tokens are worth caching: a token is admitted on its second sighting.
 *
 * A token seen once and never again (a new token on every request) would otherwise enter the
 * cache, outlive a young-generation collection there, and die in the old generation, where it
 * costs a full one: with cheap HMAC verification that made a cache miss 15% dearer than no
 * cache at all. Sightings are kept as fingerprints in a fixed ring, so remembering a one-off
 * token allocates nothing long-lived. A fingerprint collision only admits a token a sighting
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

/** Remembers the fingerprints of the last `size` one-off tokens; answers true for one already among them. */
export function secondSighting (size: number): Admission {
  const ring = new Int32Array(size)
  const seen = new Set<number>()
  let next = 0
  return (print) => {
    if (seen.has(print)) return true
    seen.delete(ring[next] as number)
    ring[next] = print
    seen.add(print)
    next = (next + 1) % size
    return false
  }
}
