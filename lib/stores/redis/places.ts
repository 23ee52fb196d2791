import type { RedisClient } from '../../types'
import { BUCKETS, type StoreKeys } from './keys'
import { readHead, readSince, type LogChange, type LogEntry, type LogPosition } from './log'

/** Applies one change read from a log to the copy (throws when the copy is full). */
export type ApplyChange = (change: LogChange) => void

const BUCKET_LIST = Array.from({ length: BUCKETS }, (_, bucket) => bucket)

/**
 * Where a mirror's copy stands in each bucket's log, and how it moves on: only by reading the
 * logs from it (a message on the channel is no proof of anything: anyone allowed to publish
 * there can send one). Unplaced until a full load placed it.
 */
export class LogPlaces {
  private places: LogPosition[] | undefined
  /** While a load runs: where the logs ended before it, moved on by the reads made meanwhile. */
  private loading: LogPosition[] | undefined

  constructor (private readonly client: RedisClient, private readonly keys: StoreKeys) {}

  /** Where the copy stands in each log (a copy of the places), or undefined while it has no place. */
  current (): LogPosition[] | undefined {
    return this.places?.slice()
  }

  /** Forgets every place (the copy was dropped): only a full load can place it again. */
  forget (): void {
    this.places = undefined
    this.loading = undefined
  }

  /**
   * Reads one bucket's log from the copy's place (or, during a load, from where the load
   * will place it) and applies what it finds. Answers false when the log cannot say what the
   * copy missed (only a load can tell then); true otherwise, also when there is no place to
   * read from (the copy is being dropped, or its load will read the log).
   */
  async readBucket (bucket: number, apply: ApplyChange): Promise<boolean> {
    const from = this.places ?? this.loading
    if (from === undefined) return true
    const entries = await readSince(this.client, this.keys.log(bucket), from[bucket] as LogPosition)
    if (entries === undefined) return false
    advance(from, bucket, entries, apply)
    return true
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
      if (entries === undefined) unreadable.push(bucket)
      else advance(from, bucket, entries, apply)
    })
    return unreadable
  }

  /**
   * Runs `load` (every key into the copy), after reading where each log ends, then reads the
   * changes made since, to place the copy in each log; reads asked for during the load
   * (messages heard) follow the logs meanwhile, so that a busy log is not trimmed past that
   * place before the load ends. Answers the buckets whose log cannot say what came after
   * (trimmed past it or rewritten during the load): the copy is then unplaced, and only
   * another load can tell. A drop or an overflow meanwhile leaves the placing to the next attempt.
   */
  async load (load: () => Promise<void>, apply: ApplyChange, wanted: () => boolean): Promise<number[]> {
    this.forget()
    const ends = await this.readEnds()
    this.loading = ends
    await load()
    if (!wanted()) return []
    this.places = ends
    this.loading = undefined
    const unreadable = await this.catchUp(apply) as number[]
    if (unreadable.length > 0) this.places = undefined
    return unreadable
  }

  /** Where each log ends now. */
  private async readEnds (): Promise<LogPosition[]> {
    return await Promise.all(BUCKET_LIST.map(async (bucket) => await readHead(this.client, this.keys.log(bucket))))
  }
}

/**
 * Applies `entries`, read from `from[bucket]` on, and moves that place to the last of them.
 * Another read of the same log may have moved it further meanwhile: keep the further (each
 * place was read, with all before it applied, and the next read checks it is still there).
 */
function advance (from: LogPosition[], bucket: number, entries: LogEntry[], apply: ApplyChange): void {
  for (const { change } of entries) if (change !== undefined) apply(change)
  const last = entries.at(-1)
  if (last !== undefined && last.seq > (from[bucket] as LogPosition).seq) from[bucket] = last
}
