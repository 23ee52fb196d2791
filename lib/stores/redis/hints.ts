import { BUCKETS } from './keys'

/** Someone waiting until the messages heard for a bucket up to `upTo` were followed by a read of its log. */
interface Waiter {
  readonly upTo: number
  resolve (): void
  reject (error: unknown): void
}

/**
 * The reads of the buckets' logs that messages on the channel ask for. A message is a hint,
 * never a change: whoever may publish on the channel can send one, so the mirror reads the log
 * it names and believes only the log. Reads are coalesced: at most one per bucket at a time,
 * and one more when messages came while it ran, so that a flood of messages (forged or real)
 * costs at most one outstanding read per bucket.
 *
 * Between hearing a message and reading its log, the copy may not know a logout yet: lookups
 * in that bucket wait for a read begun after the last message they could have heard, so that
 * the copy is never less current than the messages it heard (a read that fails makes them
 * fail, closed). A forged message costs those lookups one read, never an answer.
 */
export class HeardBuckets {
  /** Messages heard for each bucket. */
  private readonly heard: number[] = new Array<number>(BUCKETS).fill(0)
  /** For each bucket, how many of its messages a read that succeeded had begun after. */
  private readonly covered: number[] = new Array<number>(BUCKETS).fill(0)
  private readonly reading: boolean[] = new Array<boolean>(BUCKETS).fill(false)
  private readonly waiters: Waiter[][] = Array.from({ length: BUCKETS }, () => [])

  /** `read` reads one bucket's log and applies it; it rejects when the log could not be read. */
  constructor (private readonly read: (bucket: number) => Promise<void>) {}

  /** A message that names `bucket`, or no bucket (undefined): every log is read. */
  hint (bucket: number | undefined): void {
    if (bucket !== undefined) {
      this.heard[bucket] = (this.heard[bucket] as number) + 1
      this.follow(bucket)
      return
    }
    for (let each = 0; each < BUCKETS; each++) this.hint(each)
  }

  /**
   * Undefined when every message heard for `bucket` was followed by a read; else a promise
   * that settles once one has been (rejecting if it fails).
   */
  settled (bucket: number): Promise<void> | undefined {
    const upTo = this.heard[bucket] as number
    if ((this.covered[bucket] as number) >= upTo) return undefined
    const pending = new Promise<void>((resolve, reject) => { (this.waiters[bucket] as Waiter[]).push({ upTo, resolve, reject }) })
    // A read that failed left the bucket behind: this lookup asks for another.
    this.follow(bucket)
    return pending
  }

  /** Reads `bucket`'s log until it is read after every message heard for it; one loop per bucket. */
  private follow (bucket: number): void {
    if (this.reading[bucket] === true) return
    this.reading[bucket] = true
    void this.loop(bucket)
  }

  private async loop (bucket: number): Promise<void> {
    try {
      while ((this.covered[bucket] as number) < (this.heard[bucket] as number)) {
        const upTo = this.heard[bucket] as number
        await this.read(bucket)
        this.covered[bucket] = upTo
        const waiting: Waiter[] = []
        for (const waiter of this.waiters[bucket] as Waiter[]) {
          if (waiter.upTo > upTo) waiting.push(waiter)
          else waiter.resolve()
        }
        this.waiters[bucket] = waiting
      }
    } catch (error) {
      const failed = this.waiters[bucket] as Waiter[]
      this.waiters[bucket] = []
      for (const waiter of failed) waiter.reject(error)
    } finally {
      this.reading[bucket] = false
    }
  }
}
