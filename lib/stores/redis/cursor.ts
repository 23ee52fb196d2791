import { BUCKETS } from './keys'
import type { LogPosition } from './log'

/*
 * The revocation feed's cursors on the Redis store: a place in each bucket's log (its number
 * and its stamp, see log.ts), so that any instance on the same Redis resumes from a cursor
 * another one issued, by reading the logs themselves. Compact, since every event carries one:
 * a version, the prefix's fingerprint, then per bucket the number and the stamp as unsigned
 * LEB128 varints (a stamp the store did not write as its text), in base64url (about 210
 * characters).
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

/** A stamp read as text (an entry someone else added), kept exactly up to this many bytes. */
const MAX_TEXT_STAMP = 64

/**
 * Appends a stamp: 0 for none, 1 then its length and bytes for a stamp the store did not
 * write (an entry someone else added may end a log: a cursor must name it exactly, or every
 * resume from it would fail), else the stamp + 2. A longer text is kept as none: a resume
 * from it then finds another stamp and its reader gets a snapshot, never a skip.
 */
function pushStamp (bytes: number[], stamp: string): void {
  const text = Buffer.from(stamp)
  if (stamp === '' || text.length > MAX_TEXT_STAMP) bytes.push(0)
  else if (CANONICAL_STAMP.test(stamp) && Number.isSafeInteger(Number(stamp) + 2)) pushVarint(bytes, Number(stamp) + 2)
  else {
    bytes.push(1, text.length)
    bytes.push(...text)
  }
}

/** The cursor of `places` (one per bucket) under the prefix of `fingerprint`. */
export function encodeCursor (fingerprint: number, places: readonly LogPosition[]): string {
  const bytes: number[] = [VERSION]
  pushVarint(bytes, fingerprint)
  for (const { seq, stamp } of places) {
    pushVarint(bytes, seq)
    pushStamp(bytes, stamp)
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

  /** A stamp (see {@link pushStamp}). */
  stamp (): string | undefined {
    const number = this.next()
    if (number === undefined || number === 0) return number === 0 ? '' : undefined
    if (number > 1) return String(number - 2)
    const length = this.next()
    if (length === undefined || length > MAX_TEXT_STAMP || this.at + length > this.bytes.length) return undefined
    this.at += length
    return this.bytes.subarray(this.at - length, this.at).toString()
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
    const stamp = reader.stamp()
    if (seq === undefined || stamp === undefined) return undefined
    places.push({ seq, stamp })
  }
  return reader.done ? places : undefined
}
