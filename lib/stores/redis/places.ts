import type { RedisClient } from '../../types'
import { BUCKETS, type StoreKeys } from './keys'
import { follows, readHead, readSince, type LogChange, type LogEntry, type LogPosition } from './log'

/** Applies one change read from a log to the copy (throws when the copy is full). */
export type ApplyChange = (change: LogChange) => void

const BUCKET_LIST = Array.from({ length: BUCKETS }, (_, bucket) => bucket)

/**
 * Where a mirror's copy stands in each bucket's log, and how it moves on: by a message that
 * follows its place, or by reading the logs from it. Unplaced until a full load placed it.
 */
export class LogPlaces {
  private places: LogPosition[] | undefined

  constructor (private readonly client: RedisClient, private readonly keys: StoreKeys) {}

  /** Forgets every place (the copy was dropped): only a full load can place it again. */
  forget (): void {
    this.places = undefined
  }

  /**
   * A change heard on the channel (already applied): the place moves on when the entry
   * follows it. Answers true for a gap: a number skipped, or a chain that breaks (a log
   * rewritten), so that the copy may have missed a change.
   */
  heard (bucket: number, entry: LogEntry): boolean {
    const places = this.places
    const position = places?.[bucket]
    if (places === undefined || position === undefined) return false
    if (!follows(entry, position)) return entry.seq > position.seq
    places[bucket] = entry
    return false
  }

  /**
   * Reads every log from the copy's place in it and applies what it finds. Answers the
   * buckets whose log cannot say what the copy missed (none: the copy is current), or
   * undefined when the copy has no place yet; either way only a load can tell the rest. A read
   * that became unwanted meanwhile is applied all the same: a change applied twice, or late,
   * changes nothing.
   */
  async catchUp (apply: ApplyChange): Promise<number[] | undefined> {
    const from = this.places
    if (from === undefined) return undefined
    const read = await Promise.all(BUCKET_LIST.map(async (bucket) => await readSince(this.client, this.keys.log(bucket), from[bucket] as LogPosition)))
    const unreadable: number[] = []
    read.forEach((entries, bucket) => {
      if (entries === undefined) {
        unreadable.push(bucket)
        return
      }
      for (const { change } of entries) if (change !== undefined) apply(change)
      const last = entries.at(-1)
      // Messages may have moved the place further meanwhile: both read the same log, keep the further.
      if (last !== undefined && last.seq > (from[bucket] as LogPosition).seq) from[bucket] = last
    })
    return unreadable
  }

  /**
   * Runs `load` (every key into the copy), after reading where each log ends, then reads the
   * changes made since, to place the copy in each log. A log that cannot tell (trimmed or
   * rewritten during the load) is no gap: the subscription, up all along (else the load is
   * unwanted), brought every change made since the load began, so that log's present end is
   * the copy's place. A drop or an overflow meanwhile leaves the placing to the next attempt.
   */
  async load (load: () => Promise<void>, apply: ApplyChange, wanted: () => boolean): Promise<void> {
    this.places = undefined
    const ends = await this.readEnds(BUCKET_LIST)
    await load()
    if (!wanted()) return
    this.places = ends
    const unreadable = await this.catchUp(apply) as number[]
    const present = await this.readEnds(unreadable)
    if (wanted()) unreadable.forEach((bucket, index) => { ends[bucket] = present[index] as LogPosition })
  }

  /** Where each of `buckets`' logs ends now. */
  private async readEnds (buckets: readonly number[]): Promise<LogPosition[]> {
    return await Promise.all(buckets.map(async (bucket) => await readHead(this.client, this.keys.log(bucket))))
  }
}
