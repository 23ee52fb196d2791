import { BUCKETS } from './keys'
import type { LogPosition } from './log'

/*
 * The revocation feed's cursors on the Redis store: a place in each bucket's log (its number
 * and its stamp, see log.ts), so that any instance on the same Redis resumes from a cursor
 * another one issued, by reading the logs themselves. Compact, since every event carries one:
 * a version, the prefix's fingerprint, then per bucket the number and the stamp as unsigned
 * LEB128 varints, in base64url (about 220 characters).
 */

/** The format's version: a cursor of another version is unknown (its reader gets a snapshot). */
const VERSION = 1
/** A stamp the store writes, read back exactly from its number: no leading zero, a safe integer. */
const CANONICAL_STAMP = /^(?:0|[1-9]\d{0,15})$/
const BASE64URL = /^[A-Za-z0-9_-]+$/
/** The most bytes a varint of a safe integer takes (53 bits, 7 a byte). */
const MAX_VARINT_BYTES = 8

/**
 * A fingerprint of the prefix (FNV-1a, 32 bits): a cursor issued for another prefix of the
 * same Redis is refused at once, rather than checked against logs it never named.
 */
export function prefixFingerprint (prefix: string): number {
  let hash = 0x811c9dc5
  for (let index = 0; index < prefix.length; index++) hash = Math.imul(hash ^ prefix.charCodeAt(index), 0x01000193)
  return hash >>> 0
}

function pushVarint (bytes: number[], value: number): void {
  let rest = value
  while (rest >= 0x80) {
    bytes.push((rest % 0x80) | 0x80)
    rest = Math.floor(rest / 0x80)
  }
  bytes.push(rest)
}

/**
 * A stamp as a number: 0 for none, else the stamp + 1. A stamp the store did not write (an
 * entry someone else added) is kept as none: a resume from it then finds another stamp there
 * and its reader gets a snapshot, never a skip.
 */
const stampNumber = (stamp: string): number => CANONICAL_STAMP.test(stamp) && Number.isSafeInteger(Number(stamp) + 1) ? Number(stamp) + 1 : 0

/** The cursor of `places` (one per bucket) under the prefix of `fingerprint`. */
export function encodeCursor (fingerprint: number, places: readonly LogPosition[]): string {
  const bytes: number[] = [VERSION]
  pushVarint(bytes, fingerprint)
  for (const { seq, stamp } of places) {
    pushVarint(bytes, seq)
    pushVarint(bytes, stampNumber(stamp))
  }
  return Buffer.from(bytes).toString('base64url')
}

/** Reads varints from a buffer; undefined once one is malformed or missing. */
class VarintReader {
  private at = 0
  constructor (private readonly bytes: Buffer) {}

  get done (): boolean {
    return this.at === this.bytes.length
  }

  next (): number | undefined {
    let value = 0
    for (let index = 0; index < MAX_VARINT_BYTES && this.at < this.bytes.length; index++) {
      const byte = this.bytes[this.at++] as number
      value += (byte & 0x7f) * 2 ** (7 * index)
      if (byte < 0x80) return Number.isSafeInteger(value) ? value : undefined
    }
    return undefined
  }
}

/**
 * The places a cursor of this prefix names, or undefined for any other string: another
 * store's, another prefix's, another version's, or not a cursor at all.
 */
export function decodeCursor (fingerprint: number, cursor: string): LogPosition[] | undefined {
  if (!BASE64URL.test(cursor)) return undefined
  const bytes = Buffer.from(cursor, 'base64url')
  if (bytes[0] !== VERSION) return undefined
  const reader = new VarintReader(bytes.subarray(1))
  if (reader.next() !== fingerprint) return undefined
  const places: LogPosition[] = []
  for (let bucket = 0; bucket < BUCKETS; bucket++) {
    const seq = reader.next()
    const stamp = reader.next()
    if (seq === undefined || stamp === undefined) return undefined
    places.push({ seq, stamp: stamp === 0 ? '' : String(stamp - 1) })
  }
  return reader.done ? places : undefined
}
