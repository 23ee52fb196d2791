/*
 * Where the Redis store keeps what. Every session and user key carries a hash tag naming one
 * of {@link BUCKETS} buckets, and each bucket has a log (a capped Redis Stream) of its own
 * under the same tag: a write script touches one key and its bucket's log, and on a Redis
 * Cluster both hash to one slot, so the script never answers CROSSSLOT. The bucket of an id
 * is fixed by the id alone, so every instance (of every version) finds a key in one place.
 */

/** How many buckets (and logs) the keys spread over: the mirror reads each log in turn. */
export const BUCKETS = 16
/** Keeps the top 4 bits of a 32-bit hash: one of {@link BUCKETS}. */
const BUCKET_SHIFT = 28

/**
 * About how many entries each bucket's log keeps (160,000 in all, a few MB in Redis): a
 * mirror cut off for longer than that many writes to one bucket loads everything again.
 */
export const LOG_LENGTH = 10_000

/**
 * The bucket of a session or user id: the top bits of FNV-1a (32 bits) over its UTF-16 code
 * units. Cheap, stable across versions and platforms, and spread evenly. (FNV's low bits
 * depend only on the low bits of each character: ids that differ in a suffix would share a
 * bucket.)
 */
export function bucketOf (id: string): number {
  return fnv1a(id) >>> BUCKET_SHIFT
}

/** FNV-1a (32 bits, unsigned) over the UTF-16 code units of `id`. */
function fnv1a (id: string): number {
  let hash = 0x811c9dc5
  for (let index = 0; index < id.length; index++) {
    hash ^= id.charCodeAt(index)
    hash = Math.imul(hash, 0x01000193)
  }
  return hash >>> 0
}

/** Marks an id kept in Redis in its JSON form (see {@link encodeId}); no id the plugin makes starts with a NUL. */
const ENCODED = '\u0000json:'

/** A lone surrogate: a string holding one is not well-formed UTF-16. */
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/

/**
 * An id as Redis keeps it. Redis holds bytes, and ioredis sends a string as UTF-8, where a
 * lone surrogate (which a JSON token can carry in `sub`) becomes U+FFFD: the key, the log
 * entry and the message would name another user, and the mirrors would never match the
 * token's own `sub`. Such an id, and one that starts like an encoded one, is kept as
 * {@link ENCODED} + its JSON text, which is ASCII for those characters and reads back exactly.
 */
export function encodeId (id: string): string {
  return LONE_SURROGATE.test(id) || id.startsWith(ENCODED) ? ENCODED + JSON.stringify(id) : id
}

/** The id that {@link encodeId} kept as `stored`. */
export function decodeId (stored: string): string {
  return stored.startsWith(ENCODED) ? JSON.parse(stored.slice(ENCODED.length)) as string : stored
}

/** The hash tag of a bucket, `{<bucket>}`. */
const tag = (bucket: number): string => `{${bucket}}`

/** The names of the store's keys under one prefix. */
export interface StoreKeys {
  /** `<prefix>s:{<bucket>}<sid>` (the sid as {@link encodeId} keeps it): the session's generation, or its end. */
  session (sid: string): string
  /** `<prefix>u:{<bucket>}<sub>`: the user's logout-all cut-off. */
  subject (sub: string): string
  /** `<prefix>log:{<bucket>}`: the bucket's log, every write in order. */
  log (bucket: number): string
  /**
   * `<prefix>r:{u:<hash>}<sub>`: the user's session registry (live and ended sessions, one
   * value). The tag is the user's own, 8 hex digits of FNV-1a over `sub`, never `sub` itself:
   * a `{` or `}` in a sub cannot move the tag, and each user's registry is one slot of its
   * own on a Cluster (a user's methods are one key, so atomic), spread over the slots.
   */
  registry (sub: string): string
}

/**
 * The store's key names under `prefix`.
 *
 * @example
 * ```ts
 * const keys = storeKeys('jwt-session:')
 * keys.session('abc') // 'jwt-session:s:{5}abc'
 * ```
 */
export function storeKeys (prefix: string): StoreKeys {
  return {
    session: (sid) => `${prefix}s:${tag(bucketOf(sid))}${encodeId(sid)}`,
    subject: (sub) => `${prefix}u:${tag(bucketOf(sub))}${encodeId(sub)}`,
    log: (bucket) => `${prefix}log:${tag(bucket)}`,
    registry: (sub) => `${prefix}r:{u:${fnv1a(sub).toString(16).padStart(8, '0')}}${encodeId(sub)}`
  }
}
