import { channels } from './channels'

import type { Health, PartHealth } from '../types'

/** One part of `health()`, and the whole answer: written once, in `index.d.ts`. */
export type { Health, PartHealth }

/**
 * The states in which requests answer 503: a store distrusted or away, a mirror loading, a
 * follower before its snapshot or stale, a remote JWKS never fetched. Any other state
 * (`ready`, `unknown`, `none`, `fetched`, `failed` with keys in hand, `current`) serves.
 */
const NOT_READY: ReadonlySet<string> = new Set(['loading', 'distrusted', 'unavailable', 'stale', 'pending', 'closed'])

/** Whether a part in `state` lets requests through. */
export function isReadyState (state: string): boolean {
  return !NOT_READY.has(state)
}

/** A part with nothing to watch (no store, a local keyring, no follower). */
export function steadyPart (state: string): PartHealth {
  return Object.freeze({ state, since: Date.now() })
}

/**
 * A part's state and since when, for the parts that change (a store's gate, a keyring, a
 * follower). A change is published on the `store` channel as `{ part, state, previous }`,
 * for a subscriber only: an operator counts distrusts and recoveries.
 */
export class PartState {
  private state: string
  private since = Date.now()

  constructor (private readonly part: string, initial: string) {
    this.state = initial
  }

  /** Moves to `state`; nothing when it already holds. */
  set (state: string): void {
    if (state === this.state) return
    const previous = this.state
    this.state = state
    this.since = Date.now()
    if (channels.store.hasSubscribers) channels.store.publish({ part: this.part, state, previous })
  }

  /** The part as `health()` shows it. */
  get health (): PartHealth {
    return { state: this.state, since: this.since }
  }
}

/** What a store's optional `health()` answers, feature-detected; `unknown` without it. */
export function storeHealth (store: unknown): PartHealth {
  if (store === undefined) return { state: 'none', since: 0 }
  const health = (store as { health?: unknown }).health
  if (typeof health !== 'function') return { state: 'unknown', since: 0 }
  const answer = health.call(store) as Partial<PartHealth> | undefined
  return { state: typeof answer?.state === 'string' ? answer.state : 'unknown', since: typeof answer?.since === 'number' ? answer.since : 0 }
}

/** The parts together; `ready` only when none of them would answer 503. */
export function composeHealth (store: PartHealth, keys: PartHealth, feed: PartHealth): Health {
  return { ready: isReadyState(store.state) && isReadyState(keys.state) && isReadyState(feed.state), store, keys, feed }
}
