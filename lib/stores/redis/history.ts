import type { RedisClient, RevocationChange, RevocationHistory, RevocationSnapshot } from '../../types'
import { decodeCursor, encodeCursor, prefixFingerprint } from './cursor'
import { BUCKETS, type StoreKeys } from './keys'
import { loadKeys } from './load'
import { readHead, readSince, type LogChange, type LogEntry, type LogPosition } from './log'
import type { RedisMirror } from './mirror'
import { openSubscription, type Subscription } from './subscription'
import { parseCutoff, parseSession } from './values'

/** What the history reads: the store's Redis, its keys and channel, its start-up check, and its mirror (mirror mode). */
export interface HistorySource {
  readonly client: RedisClient
  readonly prefix: string
  readonly keys: StoreKeys
  readonly channel: string
  /** Throws unless Redis passed the store's start-up check. */
  readonly assert: () => void
  readonly mirror: RedisMirror | undefined
  /** How often the watchers are woken without a message, in milliseconds. */
  readonly checkMs?: number
  /** How long `changesSince` may take before it fails, in milliseconds. */
  readonly deadlineMs?: number
}

/** The Redis store's history, with what only the store calls. */
export interface RedisHistory {
  /** What `revocationFeed` reads: snapshot, changesSince and watch. */
  readonly view: RevocationHistory
  /** Wakes the watchers: this process wrote a change. */
  wake (): void
  /** Stops the timer and the subscription of its own; nobody is woken again. */
  close (): void
}

/**
 * A lost message is noticed within this long: the watchers are woken this often, and read the
 * logs (one short XRANGE a log when nothing changed).
 */
const CHECK_MS = 1000
/**
 * A read of the logs not answered within this long fails. The feed's heartbeats tell its
 * followers they are current: a Redis cut off without a word (no reset, a client without
 * `commandTimeout`) would leave a reader's read hanging while heartbeats go on. Failing ends
 * the reader's stream instead, as the mirror distrusts its copy after three silent checks.
 */
const DEADLINE_MS = 3000

const BUCKET_LIST = Array.from({ length: BUCKETS }, (_, bucket) => bucket)

/** `work`, or a rejection once `ms` passed without its answer (the work goes on, unheard). */
async function within<T> (ms: number, work: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const late = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => { reject(new Error(`the Redis store's logs did not answer within ${ms} ms`)) }, ms)
  })
  try {
    return await Promise.race([work, late])
  } finally {
    clearTimeout(timer)
    work.catch(() => {})
  }
}

/** A change read from a log, as the feed publishes it, at `cursor`. */
function feedChange ({ kind, id, value, expiresAt }: LogChange, cursor: string): RevocationChange {
  // A value the store did not write is read as it is everywhere: an end, a cut-off that refuses every token.
  return kind === 'u'
    ? { cursor, kind: 'subject', sub: id, cutoff: parseCutoff(value), expiresAt }
    : { cursor, kind: 'session', sid: id, record: parseSession(value), expiresAt }
}

/**
 * At most `limit` changes of `read` (each bucket's entries after `from[bucket]`, in order),
 * oldest stamp first across the buckets (a tie goes to the lower bucket), each bucket's own
 * order kept whatever its stamps say (a clock stepped back): deterministic, so the same logs
 * answer the same changes. Each carries the cursor right after it; an entry that records no
 * change (someone else's) is passed over, and its place taken with the next change after it.
 */
function merge (read: LogEntry[][], from: LogPosition[], limit: number, cursorOf: (places: LogPosition[]) => string): RevocationChange[] {
  const places = from.slice()
  const next = read.map(() => 0)
  const changes: RevocationChange[] = []
  while (changes.length < limit) {
    let best: { bucket: number, entry: LogEntry } | undefined
    for (const bucket of BUCKET_LIST) {
      const entries = read[bucket] as LogEntry[]
      let index = next[bucket] as number
      while (index < entries.length && (entries[index] as LogEntry).change === undefined) index++
      next[bucket] = index
      const entry = entries[index]
      if (entry !== undefined && (best === undefined || Number(entry.stamp) < Number(best.entry.stamp))) best = { bucket, entry }
    }
    if (best === undefined) break
    const { bucket, entry } = best
    next[bucket] = (next[bucket] as number) + 1
    places[bucket] = { seq: entry.seq, stamp: entry.stamp }
    changes.push(feedChange(entry.change as LogChange, cursorOf(places)))
  }
  return changes
}

/**
 * The revocation feed's history on the Redis store: the buckets' logs themselves, so any
 * instance on the same Redis serves it, and resumes from a cursor another one issued (a place
 * in each log, see cursor.ts). A log that cannot say what came after a cursor's place in it
 * (trimmed past it, rewritten by a failover, another Redis') answers undefined, and the
 * reader gets a snapshot. Every read that fails rejects: the feed then ends the reader's
 * stream (it reconnects, and its service answers 503 meanwhile), never skips a change.
 */
export function redisHistory (source: HistorySource): RedisHistory {
  const { client, prefix, keys, channel, assert, mirror } = source
  const fingerprint = prefixFingerprint(prefix)
  const cursorOf = (places: LogPosition[]): string => encodeCursor(fingerprint, places)
  const listeners = new Set<() => void>()
  let timer: NodeJS.Timeout | undefined
  let stopHints: (() => void) | undefined
  let closed = false

  function wake (): void {
    for (const listener of listeners) listener()
  }

  /**
   * Everything in force and the cursor it holds at. The mirror's copy when it is trusted (it
   * knows its place in each log); else where each log ends, read first, then every key: what
   * is written meanwhile is read again from that cursor, and applying it twice changes nothing.
   * Entries are kept as the snapshot lists them, and nothing else (1,000,000 of them hold
   * about 150 MB while the snapshot is sent).
   */
  async function snapshot (): Promise<RevocationSnapshot> {
    assert()
    const held = mirror?.held()
    if (held !== undefined) return { cursor: cursorOf(held.places), ...held.entries }
    const ends = await Promise.all(BUCKET_LIST.map(async (bucket) => await readHead(client, keys.log(bucket))))
    const sessions: Array<RevocationSnapshot['sessions'][number]> = []
    const subjects: Array<RevocationSnapshot['subjects'][number]> = []
    await loadKeys(client, prefix, (kind, id, value, expiresAt) => {
      if (kind === 'u') {
        subjects.push([id, parseCutoff(value), expiresAt])
        return
      }
      const record = parseSession(value)
      sessions.push(record.ended ? [id, 0, 0, 1, expiresAt] : [id, record.generation, record.renewedAt, 0, expiresAt])
    }, () => true)
    return { cursor: cursorOf(ends), sessions, subjects }
  }

  async function changesSince (cursor: string, limit: number): Promise<RevocationChange[] | undefined> {
    assert()
    const from = decodeCursor(fingerprint, cursor)
    if (from === undefined) return undefined
    const reads = Promise.all(BUCKET_LIST.map(async (bucket) => await readSince(client, keys.log(bucket), from[bucket] as LogPosition, limit)))
    const read = await within(source.deadlineMs ?? DEADLINE_MS, reads)
    if (read.includes(undefined)) return undefined
    return merge(read as LogEntry[][], from, limit, cursorOf)
  }

  /**
   * While someone watches: the store's messages wake them (the mirror's subscription, or in
   * lookup mode one of the history's own), and so does a timer, so that a lost message (a
   * blip, a Cluster's failover) delays a change by a second at most, never stalls it.
   */
  function start (): void {
    timer = setInterval(wake, source.checkMs ?? CHECK_MS).unref()
    if (mirror !== undefined) {
      stopHints = mirror.onMessage(wake)
      return
    }
    const subscription: Subscription = openSubscription(client, channel, {
      message: wake,
      // Subscribed on each new connection; what was missed meanwhile is read now.
      ready: () => { subscription.subscribe().then(wake, () => {}) },
      close: () => {}
    })
    stopHints = () => { subscription.close() }
  }

  function stop (): void {
    clearInterval(timer)
    stopHints?.()
    stopHints = undefined
  }

  function watch (listener: () => void): () => void {
    if (closed) return () => {}
    const own = (): void => { listener() }
    listeners.add(own)
    if (listeners.size === 1) start()
    return () => {
      if (!listeners.delete(own) || listeners.size > 0) return
      stop()
    }
  }

  return {
    view: Object.freeze({ snapshot, changesSince, watch }),
    wake,
    close () {
      closed = true
      listeners.clear()
      stop()
    }
  }
}
