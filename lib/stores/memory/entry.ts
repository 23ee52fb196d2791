/**
 * One revocation of the memory store: a cut-off and the time it may be dropped, both whole
 * seconds. Kept as one number where they fit, which is nearly always (a span under about
 * 48 days, a cut-off before 2038): a 16-byte number instead of a 64-byte array per entry
 * keeps a million revocations under 100 MB. Anything else is kept as a pair.
 */
export type Entry = number | readonly [cutoff: number, expiresAt: number]

/** Seconds of span one packed number holds: 2^22, about 48 days. */
const SPAN = 2 ** 22

/** Cut-offs below this (2^31 s, in 2038) leave room for the span within 2^53. */
const CUTOFF_LIMIT = 2 ** 31

/** Packs a cut-off and an expiry into one entry. */
export function entry (cutoff: number, expiresAt: number): Entry {
  const span = expiresAt - cutoff
  const fits = Number.isInteger(cutoff) && cutoff >= 0 && cutoff < CUTOFF_LIMIT && Number.isInteger(span) && span >= 0 && span < SPAN
  return fits ? cutoff * SPAN + span : [cutoff, expiresAt]
}

/** The cut-off of an entry. */
export function cutoffOf (value: Entry): number {
  return typeof value === 'number' ? Math.floor(value / SPAN) : value[0]
}

/** The time, in seconds, after which an entry may be dropped. */
export function expiryOf (value: Entry): number {
  return typeof value === 'number' ? Math.floor(value / SPAN) + value % SPAN : value[1]
}
