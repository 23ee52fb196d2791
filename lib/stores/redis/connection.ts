import { PartState, type PartHealth } from '../../ops/health'
import type { RedisClient } from '../../types'

/** The state of a Redis store in `lookup` mode, for `health()` and the `store` channel. */
export interface ConnectionState {
  /** `unavailable` until Redis passed its check and while the client is disconnected, `ready`, or `closed`. */
  health (): PartHealth
  /** The store closed: `closed`, and no listener left on the host's client. */
  close (): void
}

/**
 * Follows the host's client for a store in `lookup` mode, which has no copy whose trust would
 * tell: every request reads Redis, so requests answer 503 while the client is disconnected,
 * and `health()` says so. `ready` once Redis passed the start-up check (`passed`), then
 * `unavailable` from the client's `close` to its next `ready` (ioredis reconnects on its own).
 * Each change is pushed on the `store` channel as it happens, not when `health()` is asked.
 * A Redis that hangs without closing the connection is not seen here: the requests' own
 * `storeTimeout` fails them closed.
 */
export function followConnection (client: RedisClient, passed: Promise<void>): ConnectionState {
  const state = new PartState('store', 'unavailable')
  let closed = false
  // `once`, re-armed at each change, so that exactly one of the two listeners is set at a time.
  const up = (): void => {
    state.set('ready')
    client.once('close', down)
  }
  const down = (): void => {
    state.set('unavailable')
    client.once('ready', up)
  }
  // A refusal (or a store closed before the check) leaves it unavailable; `close` says closed.
  passed.then(() => { if (!closed) up() }, () => {})
  return {
    health: () => state.health,
    close () {
      closed = true
      client.off('close', down)
      client.off('ready', up)
      state.set('closed')
    }
  }
}
