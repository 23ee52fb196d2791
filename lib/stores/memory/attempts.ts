import { LruMap } from 'toad-cache'
import type { AttemptCounter } from '../../types'

/** One key's window: attempts counted, and when the window ends (ms since the epoch). */
interface Window {
  count: number
  readonly endsAt: number
}

/**
 * Login names and addresses tracked at once. The least recently seen go first; an attacker
 * who floods names to push one out is held back by the per-address limit first.
 */
const TRACKED_KEYS = 100_000

/**
 * Counts login attempts in this process's memory: enough for one instance. Several
 * instances count apart (each allows the limit); the Redis store's counter is shared.
 */
export function memoryAttempts (): AttemptCounter {
  const windows = new LruMap<Window>(TRACKED_KEYS)
  return {
    take (key: string, limit: number, windowMs: number): number {
      const now = Date.now()
      const window = windows.get(key)
      if (window === undefined || window.endsAt <= now) {
        windows.set(key, { count: 1, endsAt: now + windowMs })
        return 0
      }
      if (window.count >= limit) return window.endsAt - now
      window.count++
      return 0
    },
    release (key: string): void {
      const window = windows.get(key)
      if (window !== undefined && window.count > 0) window.count--
    }
  }
}
