import { randomBytes } from 'node:crypto'
import type { MemoryStoreHistory, RevocationChange, RevocationSnapshot } from '../../types'

/** A change as recorded, before it is given its place in the history. */
export type Change = RevocationChange extends infer C ? C extends RevocationChange ? Omit<C, 'cursor'> : never : never

/** A cursor's sequence number: a whole number without sign, leading zero or exponent. */
const SEQUENCE = /^(?:0|[1-9][0-9]{0,15})$/

/**
 * The memory store's history of changes, for the revocation feed: the last `size` changes in a
 * ring, each at a cursor `<id>.<seq>`. The id is random per store, so a cursor of another
 * store, or of this process before a restart, is unknown here and its reader gets a snapshot
 * rather than a resume that would skip what it never saw.
 */
export class ChangeHistory {
  private readonly id = randomBytes(12).toString('base64url')
  private readonly ring: RevocationChange[] = []
  private seq = 0
  private readonly listeners = new Set<() => void>()

  constructor (private readonly size: number) {}

  /** Where the history stands now: a snapshot taken now is at this cursor. */
  get cursor (): string {
    return `${this.id}.${this.seq}`
  }

  /** Appends `change` and wakes the readers. */
  record (change: Change): void {
    this.seq++
    this.ring[this.seq % this.size] = { ...change, cursor: this.cursor } as RevocationChange
    for (const listener of this.listeners) listener()
  }

  /** The sequence number of a cursor this history gave, or undefined. */
  private sequenceOf (cursor: string): number | undefined {
    const dot = cursor.lastIndexOf('.')
    const seq = cursor.slice(dot + 1)
    if (cursor.slice(0, dot) !== this.id || !SEQUENCE.test(seq) || Number(seq) > this.seq) return undefined
    return Number(seq)
  }

  /** See {@link MemoryStoreHistory.changesSince}. */
  changesSince (cursor: string, limit: number): RevocationChange[] | undefined {
    const after = this.sequenceOf(cursor)
    // The ring holds seq - size + 1 .. seq: resuming after `after` needs `after + 1` in it.
    if (after === undefined || after < this.seq - this.size) return undefined
    const changes: RevocationChange[] = []
    const last = Math.min(this.seq, after + limit)
    for (let seq = after + 1; seq <= last; seq++) changes.push(this.ring[seq % this.size] as RevocationChange)
    return changes
  }

  /** See {@link MemoryStoreHistory.watch}. */
  watch (listener: () => void): () => void {
    const own = (): void => listener()
    this.listeners.add(own)
    return () => { this.listeners.delete(own) }
  }

  /** The store's {@link MemoryStoreHistory}, given what it holds now. */
  view (dump: () => Omit<RevocationSnapshot, 'cursor'>): MemoryStoreHistory {
    return Object.freeze({
      snapshot: () => ({ cursor: this.cursor, ...dump() }),
      changesSince: (cursor: string, limit: number) => this.changesSince(cursor, limit),
      watch: (listener: () => void) => this.watch(listener)
    })
  }
}
