import type { SessionRecord } from '../../types'
import { ENDED } from '../memory/tables'

/*
 * The values the Redis store writes, and what a value under its prefix stands for. A session
 * key `<prefix>s:{<bucket>}<sid>` holds `<generation>:<renewedAt>` while live, `x` once ended;
 * a user key `<prefix>u:{<bucket>}<sub>` holds the logout-all cut-off, in microseconds. Numbers travel as
 * strings of digits: Lua would print a microsecond time in exponent notation.
 */

/** The value of an ended session. */
export const ENDED_VALUE = 'x'

const LIVE_SESSION = /^(\d{1,15}):(\d{1,17})$/
const CUTOFF = /^\d{1,17}$/

/**
 * The record a session value stands for. A value this store did not write ends the session:
 * it refuses every token of its key rather than none (fail closed).
 */
export function parseSession (value: string): SessionRecord {
  const live = LIVE_SESSION.exec(value)
  return live === null ? ENDED : { generation: Number(live[1]), renewedAt: Number(live[2]), ended: false }
}

/** The cut-off a user value stands for; a value this store did not write refuses every token of the user. */
export function parseCutoff (value: string): number {
  return CUTOFF.test(value) ? Number(value) : Number.MAX_SAFE_INTEGER
}
