import { OptionError } from '../../options/checks'
import type { RedisClient } from '../../types'
import { preflight, type PreflightTarget } from './preflight'

/** The outcome of the check the store starts with, which every store call consults. */
export interface PreflightGate {
  /** Resolves once Redis passed; rejects with the refusal (an `OptionError`). */
  readonly passed: Promise<void>
  /** Throws unless Redis passed: the refusal, or that Redis could not be checked yet. */
  assert (): void
  /** Stops trying again. */
  close (): void
}

/** Wait before asking again a Redis that could not be reached, in milliseconds. */
const RETRY_DELAY = 500

/**
 * Starts the check, and asks again every {@link RETRY_DELAY} ms while Redis cannot be reached,
 * so that a store created before Redis is up checks it once it is. A refusal is final: the
 * store's calls fail closed with it from then on.
 */
export function startPreflight (client: RedisClient, target: PreflightTarget): PreflightGate {
  let refusal: Error | undefined
  let done = false
  let closed = false
  let retry: NodeJS.Timeout | undefined
  let settle!: (error?: Error) => void
  const passed = new Promise<void>((resolve, reject) => {
    settle = (error) => { if (error === undefined) resolve(); else reject(error) }
  })
  // Whoever awaits `passed` sees the refusal; nobody has to, so it is never unhandled.
  passed.catch(() => {})

  async function attempt (): Promise<void> {
    try {
      await preflight(client, target)
      done = true
      settle()
    } catch (error) {
      if (error instanceof OptionError) {
        refusal = error
        done = true
        settle(error)
      } else if (!closed) {
        retry = setTimeout(() => { void attempt() }, RETRY_DELAY).unref()
      }
    }
  }
  void attempt()

  function close (): void {
    closed = true
    clearTimeout(retry)
    client.off('end', close)
    // A store closed before Redis could be checked: whoever waits for it hears so (settled once: a no-op after).
    settle(new Error('the Redis store was closed before Redis could be checked'))
  }
  client.once('end', close)

  return {
    passed,
    assert () {
      if (refusal !== undefined) throw refusal
      if (!done) throw new Error('Redis has not been checked yet')
    },
    close
  }
}
