import type { AttemptCounter } from '../../types'

/** One key's window: attempts counted, and when the window ends (ms since the epoch). */
interface Window {
  count: number
  readonly endsAt: number
}

/** The memory counter: an {@link AttemptCounter} that tells how many keys it holds. */
export interface MemoryAttempts extends AttemptCounter {
  take (key: string, limit: number, windowMs: number): number
  release (key: string): void
  /** Keys (login names and addresses) with a window held, ended ones not yet swept included. */
  readonly size: number
}

/** Login names and addresses tracked at once by default. */
const TRACKED_KEYS = 100_000

/**
 * Counts login attempts in this process's memory: enough for one instance. Several
 * instances count apart (each allows the limit); the Redis store's counter is shared.
 *
 * A live window is never forgotten: were the least recently seen key evicted, an attacker
 * could flood other names (from many addresses, each under its own limit) to push a guessed
 * name's counter out and get a fresh budget for it. When `capacity` keys are tracked, expired
 * windows are swept out; if none has expired, an attempt under a key not yet tracked is
 * refused (429) until the first window ends. A successful login frees its window. The sweep
 * runs at most once per window end, so a full counter costs no more than a map lookup.
 * A count given back to zero drops its window, so an attempt uncounted leaves nothing behind.
 */
export function memoryAttempts (capacity = TRACKED_KEYS): MemoryAttempts {
  const windows = new Map<string, Window>()
  /** When the earliest live window found by the last sweep ends: no sweep frees a slot before. */
  let nextFreeAt = 0

  /** Drops every expired window; notes when the earliest remaining one ends. */
  function sweep (now: number): void {
    let earliest = Infinity
    for (const [key, window] of windows) {
      if (window.endsAt <= now) windows.delete(key)
      else if (window.endsAt < earliest) earliest = window.endsAt
    }
    nextFreeAt = earliest
  }

  return {
    take (key: string, limit: number, windowMs: number): number {
      const now = Date.now()
      const window = windows.get(key)
      if (window === undefined || window.endsAt <= now) {
        if (window === undefined && windows.size >= capacity) {
          if (now >= nextFreeAt) sweep(now)
          if (windows.size >= capacity) return nextFreeAt - now
        }
        windows.set(key, { count: 1, endsAt: now + windowMs })
        return 0
      }
      if (window.count >= limit) return window.endsAt - now
      window.count++
      return 0
    },
    release (key: string): void {
      const window = windows.get(key)
      if (window === undefined) return
      // A window with nothing counted holds nothing back: its slot is free for another key.
      if (--window.count <= 0) windows.delete(key)
    },
    get size (): number {
      return windows.size
    }
  }
}
