import type { RedisClient } from '../../types'
import { decodeId } from './keys'
import type { Kind } from './load'

/*
 * Reading the buckets' logs (see RECORD in scripts.ts). A mirror remembers, for each bucket,
 * the last entry it applied; after a blip it reads what came after it instead of loading
 * everything, and it checks that the entry it remembers is still there, unchanged: a log
 * trimmed past it, deleted, or rewritten by a failover to a replica that had not received it
 * cannot tell what the mirror missed, and only a full load can.
 */

/** Where a mirror stands in one bucket's log: the number of the last entry applied (0: none yet) and its stamp. */
export interface LogPosition {
  readonly seq: number
  readonly stamp: string
}

/** Before the first entry of a log. */
const LOG_START: LogPosition = Object.freeze({ seq: 0, stamp: '' })

/** One change, read from a log. */
export interface LogChange {
  readonly kind: Kind
  readonly id: string
  readonly value: string
  /** Seconds, this process' clock (see {@link parseFields}). */
  readonly expiresAt: number
}

/**
 * An entry of a log: its place, the stamp of the entry before it, and the change it records
 * (none when the entry is not one the store wrote).
 */
export interface LogEntry extends LogPosition {
  readonly previous: string
  readonly change: LogChange | undefined
}

/** Whether `entry` comes right after `position` in the same log: the next number, and a chain that holds. */
export function follows (entry: LogEntry, position: LogPosition): boolean {
  // An entry someone else added carries no chain: its number alone places it.
  return entry.seq === position.seq + 1 && (entry.change === undefined || entry.previous === position.stamp)
}

const isKind = (kind: unknown): kind is Kind => kind === 's' || kind === 'u'

/** Entries read per XRANGE. */
const PAGE = 1000

/** The number `n` of an entry id `0-<n>` (the reads ask for no other, see {@link BEYOND}). */
const entrySeq = (id: string): number => Number(id.slice(2))

/** A stamp the store writes: Redis' time in µs. */
const STAMP = /^\d{1,17}$/

/**
 * The change recorded by an entry's fields, or undefined when they are not the store's. Its
 * expiry `e` and its stamp `t` are both of Redis' clock, which is not this process': `e - t`
 * is how long the key had to live when it was written, and that much from now (the entry is
 * read after it was written) is never shorter than the truth, whatever the clocks' offset.
 */
function parseFields (fields: unknown): { change: LogChange | undefined, stamp: string, previous: string } {
  const named = new Map<string, string>()
  if (Array.isArray(fields)) for (let index = 0; index + 1 < fields.length; index += 2) named.set(String(fields[index]), String(fields[index + 1]))
  const [kind, id, value, expiresAt, stamp = ''] = [named.get('k'), named.get('i'), named.get('v'), Number(named.get('e')), named.get('t')]
  const change = isKind(kind) && id !== undefined && value !== undefined && Number.isSafeInteger(expiresAt) && STAMP.test(stamp)
    ? { kind, id: decodeId(id), value, expiresAt: Math.ceil(Date.now() / 1000 + expiresAt - Number(stamp) / 1e6) }
    : undefined
  return { change, stamp, previous: named.get('p') ?? '' }
}

/**
 * The end of the ids the store writes, excluded (`0-<n>` are all below it): reads stop there,
 * so an entry someone else added with another id is never taken for one of ours. (The
 * store's next write to that log then fails, closed: `0-*` cannot follow it.)
 */
const BEYOND = '(1-0'

/**
 * The entries an `XRANGE`/`XREVRANGE` of ids `0-<n>` answers. A log key holding another type
 * is not the store's: read as an empty log (every write to it fails, closed), rather than make
 * every read of the logs fail and the copy refuse every request.
 */
async function range (client: RedisClient, ...args: Array<string | number>): Promise<LogEntry[]> {
  let reply: unknown
  try {
    reply = await client.call(...(args as [string, ...Array<string | number>]))
  } catch (error) {
    if (error instanceof Error && error.message.startsWith('WRONGTYPE ')) return []
    throw error
  }
  // Every id is `0-<n>`: the range ends below `1-0`.
  return (reply as Array<[string, unknown]>).map(([id, fields]) => ({ seq: entrySeq(id), ...parseFields(fields) }))
}

/** The last entry of the log `key` (a log never written: {@link LOG_START}). */
export async function readHead (client: RedisClient, key: string): Promise<LogPosition> {
  const [last] = await range(client, 'XREVRANGE', key, BEYOND, '-', 'COUNT', 1)
  return last === undefined ? LOG_START : { seq: last.seq, stamp: last.stamp }
}

/**
 * Every entry of the log `key` after `from`, in order, or undefined when the log cannot say
 * what came after `from`: the entry `from` names is gone or is another one (trimmed past,
 * deleted, rewritten by a failover), or the numbers or the chain break (an entry deleted by hand).
 * With a `limit`, the read stops after the page that holds that many changes (the revocation
 * feed reads a page at a time; a mirror reads everything).
 */
export async function readSince (client: RedisClient, key: string, from: LogPosition, limit = Infinity): Promise<LogEntry[] | undefined> {
  const entries: LogEntry[] = []
  // The entry `from` names is read too, to check it is still the one the mirror applied.
  let start = from.seq === 0 ? '-' : `0-${from.seq}`
  let previous = from.seq === 0 ? undefined : from
  let changes = 0
  const count = Math.min(PAGE, limit + 1)
  while (true) {
    const page = await range(client, 'XRANGE', key, start, BEYOND, 'COUNT', count)
    for (const entry of page) {
      if (previous === from && from.seq > 0) {
        if (entry.seq !== from.seq || entry.stamp !== from.stamp) return undefined
      } else if (!follows(entry, previous ?? LOG_START)) {
        return undefined
      } else {
        entries.push(entry)
        if (entry.change !== undefined) changes++
      }
      previous = entry
    }
    if (page.length < count || changes >= limit) break
    start = `(0-${(previous as LogPosition).seq}`
  }
  // The entry `from` names must have been there, unless the mirror had read none.
  if (from.seq > 0 && previous === from) return undefined
  return entries
}

/** A message's bucket, as the write scripts publish it: `[<bucket>,` first (cjson writes no space). */
const MESSAGE_BUCKET = /^\[(\d{1,2}),/

/**
 * The bucket a message on the channel names, or undefined when it names none (something else
 * publishes there): every log is to be read then. Nothing else of a message is believed (see
 * the mirror), so nothing else is parsed: a large message costs no JSON parse.
 */
export function messageBucket (message: string, buckets: number): number | undefined {
  const match = MESSAGE_BUCKET.exec(message)
  const bucket = match === null ? NaN : Number(match[1])
  return bucket < buckets ? bucket : undefined
}
