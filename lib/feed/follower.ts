import { setTimeout as sleep } from 'node:timers/promises'
import { createParser, type EventSourceMessage } from 'eventsource-parser'
import type { FastifyBaseLogger } from 'fastify'
import { PartState, type PartHealth } from '../ops/health'
import type { ResolvedFollow } from '../options/resolved'
import type { RevocationStore } from '../types'
import { FeedCopy } from './copy'
import type { FeedSet } from './events'

/** Reconnections back off from this many milliseconds... */
const FIRST_DELAY_MS = 50
/** ...doubling up to one second. */
const MAX_DELAY_MS = 1000

/** A verify-only service's follower of an issuer's feed. */
export interface Follower {
  /** The copy, as the session rules read it. */
  readonly store: RevocationStore
  /** Connects, and keeps reconnecting until {@link Follower.stop}. */
  start (): void
  stop (): void
  /** `pending` before the first snapshot, `current`, or `stale` (requests answer 503), and since when. */
  health (): PartHealth
}

/**
 * Follows the issuer's feed at `follow.url` into a {@link FeedCopy}: Node's `fetch`, the body
 * streamed into `eventsource-parser`, each SET verified by `read` before it touches the copy.
 * What fails verification is logged (never its text) and changes nothing; it ends the
 * connection, and the next one resumes from the last event applied. A connection that stays silent past `maxStaleness` is
 * dropped; every reconnection sends the last cursor received (`Last-Event-ID`).
 */
export function createFollower (follow: ResolvedFollow, read: (token: string) => Promise<FeedSet>, log: FastifyBaseLogger): Follower {
  const copy = new FeedCopy(follow.maxStaleness)
  const lifetime = new AbortController()
  let connection = new AbortController()
  let cursor: string | undefined
  // From the copy's own verdict, brought up to date wherever it may change (an event applied,
  // a connection's end, the watchdog's tick) so that the store channel hears of a change when
  // it happens, and when health() asks: no timer of its own.
  const state = new PartState('feed', 'pending')

  /** `current`, or `stale` once it was current (`pending` before the first snapshot); published once per change. */
  function refresh (): void {
    if (copy.current) state.set('current')
    else if (state.health.state !== 'pending') state.set('stale')
  }

  /**
   * Applies one event; answers false when it was refused. A refused event ends the connection:
   * carrying on past it would move the cursor beyond a change the copy never took (a genuine
   * event refused, say for an issuer's clock ahead of ours), so the follower reconnects from the
   * last event it applied instead, and vouches for nothing until the issuer has resent it.
   */
  async function handle (message: EventSourceMessage): Promise<boolean> {
    try {
      copy.apply(await read(message.data))
    } catch (error) {
      log.warn({ reason: (error as Error).message }, 'fastify-jwt-session: an event of the revocation feed was refused; reconnecting from the last one applied')
      return false
    }
    // The cursor moves only with an event that verified and was applied.
    if (message.id !== undefined) cursor = message.id
    return true
  }

  /** One connection, until it ends or fails; answers whether any event of it was applied. */
  async function connect (): Promise<boolean> {
    connection = new AbortController()
    copy.reconnecting()
    const connectedAt = Date.now()
    const heardBefore = copy.lastWord
    // Silence past maxStaleness (from the connection's start, or its last event) ends it.
    const watchdog = setInterval(() => {
      refresh()
      if (Date.now() - Math.max(connectedAt, copy.lastWord) > follow.maxStaleness) connection.abort()
    }, Math.min(follow.maxStaleness, MAX_DELAY_MS))
    try {
      const response = await fetch(follow.url, {
        headers: { ...follow.headers, accept: 'text/event-stream', ...(cursor === undefined ? undefined : { 'last-event-id': cursor }) },
        redirect: 'error',
        signal: connection.signal
      })
      if (response.status !== 200) {
        log.warn({ status: response.status }, 'fastify-jwt-session: the revocation feed was refused')
        connection.abort()
        return false
      }
      const messages: EventSourceMessage[] = []
      const parser = createParser({ onEvent: (message) => { messages.push(message) } })
      const decoder = new TextDecoder()
      for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
        parser.feed(decoder.decode(chunk, { stream: true }))
        for (const message of messages.splice(0)) {
          // Leaving the loop cancels the body. Backing off even when earlier events applied: an
          // event refused on every resume must not make a tight loop.
          if (!await handle(message)) return false
        }
        refresh()
      }
    } catch (error) {
      if (!lifetime.signal.aborted) log.warn({ reason: (error as Error).message }, 'fastify-jwt-session: the revocation feed\'s connection failed')
    } finally {
      clearInterval(watchdog)
      copy.reconnecting()
      refresh()
    }
    return copy.lastWord !== heardBefore
  }

  async function run (): Promise<void> {
    let delay = FIRST_DELAY_MS
    while (!lifetime.signal.aborted) {
      delay = (await connect()) ? FIRST_DELAY_MS : Math.min(delay * 2, MAX_DELAY_MS)
      await sleep(delay, undefined, { signal: lifetime.signal }).catch(() => {})
    }
  }

  return {
    store: copy.store(),
    start () {
      void run()
    },
    stop () {
      lifetime.abort()
      connection.abort()
    },
    health () {
      refresh()
      return state.health
    }
  }
}
