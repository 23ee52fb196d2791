import type { RedisClient, RedisSubscriber } from '../../types'
import { isCluster, masterNodes } from './nodes'

/** What the mirror hears from its subscription. */
export interface SubscriptionEvents {
  /** A message on the channel. */
  message (message: string): void
  /** A connection is up: the mirror subscribes on it, then catches up (or loads). */
  ready (): void
  /** The connection dropped: any message from now on may be missed. */
  close (): void
}

/** The mirror's subscription: one connection of its own at a time. */
export interface Subscription {
  /** Subscribes the current connection to the channel; rejects when there is none. */
  subscribe (): Promise<void>
  /** Drops the connection for good. */
  close (): void
}

/** Wait before opening a connection on another master, in milliseconds: a dead one is not retried in a tight loop. */
const REPLACE_DELAY = 100

/**
 * Opens the mirror's subscription. On a plain client (or Sentinel), a duplicate of it, which
 * reconnects by itself and reports each drop ('close') and each return ('ready'), replaced
 * by a new one if ioredis gives it up.
 *
 * On a Cluster, a Cluster's own duplicate would not do: ioredis moves its subscription to
 * another node without a word when the node's connection drops, and every message published
 * in between is lost unseen. So the subscription is a plain connection to one master (a
 * PUBLISH reaches every node of a Cluster); when it drops, the mirror hears of it, and a new
 * connection is opened to a master listed anew (the old one may have failed over for good).
 */
export function openSubscription (client: RedisClient, channel: string, events: SubscriptionEvents): Subscription {
  let current: RedisSubscriber | undefined
  let timer: NodeJS.Timeout | undefined

  function watch (connection: RedisSubscriber): RedisSubscriber {
    connection.on('message', (_channel: string, message: string) => { events.message(message) })
    connection.on('ready', events.ready)
    connection.on('close', events.close)
    // Connection errors surface as 'close'; a listener keeps ioredis from reporting them as unhandled.
    connection.on('error', () => {})
    // A duplicate of a lazyConnect client waits for a first command; a subscriber must connect now.
    if (connection.status === 'wait') connection.connect().catch(() => {})
    return connection
  }

  /** Connects to one master of the Cluster, and to another once that connection drops. */
  function openOnMaster (): void {
    const nodes = masterNodes(client)
    const node = nodes[Math.floor(Math.random() * nodes.length)]
    if (node === undefined) {
      // The Cluster client has not found its masters yet.
      timer = setTimeout(openOnMaster, REPLACE_DELAY).unref()
      return
    }
    const connection = node.duplicate()
    current = connection
    connection.on('close', () => {
      // Closed on purpose, by close() (which clears `current`): nothing to replace.
      if (current !== connection) return
      current = undefined
      connection.disconnect()
      timer = setTimeout(openOnMaster, REPLACE_DELAY).unref()
    })
    watch(connection)
  }

  /**
   * Connects a duplicate of the plain client, and another once ioredis gives that one up (its
   * `retryStrategy` answered no more tries: 'end'): else the copy would stay distrusted, every
   * request answering 503, long after Redis is back.
   */
  function openPlain (): void {
    const connection = client.duplicate()
    current = connection
    connection.on('end', () => {
      // Ended on purpose, by close() (which clears `current`): nothing to replace.
      if (current !== connection) return
      current = undefined
      timer = setTimeout(openPlain, REPLACE_DELAY).unref()
    })
    watch(connection)
  }

  if (isCluster(client)) openOnMaster()
  else openPlain()

  return {
    async subscribe () {
      if (current === undefined) throw new Error('the revocation mirror has no connection to subscribe on')
      await current.subscribe(channel)
    },
    close () {
      clearTimeout(timer)
      current?.disconnect()
      current = undefined
    }
  }
}
