import type { RedisClient } from '../../types'

/** A connection of the writer's own, a duplicate of the host's client. */
type RedisConnection = ReturnType<RedisClient['duplicate']>

/** Wait before replacing a connection ioredis gave up, in milliseconds. */
const REPLACE_DELAY = 100

/**
 * Runs the store's write scripts. With `minReplicas`, a write counts only once that many
 * replicas hold it: a master that fails before replicating would otherwise take acknowledged
 * logouts with it, and a replica promoted in its place would let those tokens in again.
 */
export interface RevocationWriter {
  /** Runs a write script; rejects when fewer than `minReplicas` replicas acknowledged it in time. */
  eval (script: string, numberOfKeys: number, ...args: Array<string | number>): Promise<unknown>
  /** Resolves once the writer's connection is up (at once without `minReplicas`). */
  ready (): Promise<void>
  /** Closes the writer's own connection, if it has one; the host's client is left alone. */
  close (): void
}

/** Thrown when a write reached fewer replicas than `minReplicas` within the timeout. */
export class ReplicasMissingError extends Error {
  override name = 'ReplicasMissingError'
}

/**
 * A writer for `client`. Without replicas to wait for, it is the client's own `eval`. With
 * `minReplicas`, each script is followed by `WAIT minReplicas timeoutMs` in one pipeline on
 * a connection of the writer's own: `WAIT` blocks the connection it runs on, and on the
 * host's client it would hold up every other command (lookups, the host's own) whenever a
 * replica lags. `WAIT` counts the writes made on its connection, which the pipeline makes
 * the script's; an ioredis Cluster sends the pipeline to the node of the script's key.
 *
 * @example
 * ```ts
 * const writer = revocationWriter(client, 1, 1000)
 * await writer.eval(SCRIPT, 1, key, value)
 * ```
 */
export function revocationWriter (client: RedisClient, minReplicas: number, timeoutMs: number): RevocationWriter {
  if (minReplicas === 0) {
    return {
      eval: async (script, numberOfKeys, ...args) => await client.eval(script, numberOfKeys, ...args),
      ready: async () => {},
      close: () => {}
    }
  }
  let closed = false
  /**
   * A connection of the writer's own, replaced by a new one if ioredis gives it up ('end': its
   * retryStrategy answered no more tries, or a Sentinel switch caught it reconnecting): else
   * every logout would answer 503 until the process restarts, though Redis is back.
   */
  function open (): RedisConnection {
    const opened = client.duplicate()
    // Connection errors surface as failed writes; a listener keeps ioredis from reporting them as unhandled.
    opened.on('error', () => {})
    opened.on('end', () => {
      if (!closed) setTimeout(() => { if (!closed) connection = open() }, REPLACE_DELAY).unref()
    })
    // A duplicate of a lazyConnect client waits for a first command: connect now, as the mirror does.
    if (opened.status === 'wait') opened.connect().catch(() => {})
    return opened
  }
  let connection = open()
  const close = (): void => {
    closed = true
    connection.disconnect()
    client.off('end', close)
  }
  // The writer lives as long as the host's client.
  client.once('end', close)

  return {
    async eval (script, numberOfKeys, ...args) {
      const replies = await connection.pipeline()
        .call('EVAL', script, numberOfKeys, ...args)
        .call('WAIT', minReplicas, timeoutMs)
        .exec() as Array<[Error | null, unknown]>
      const [[scriptError, result], [waitError, acknowledged]] = replies as [[Error | null, unknown], [Error | null, unknown]]
      if (scriptError !== null) throw scriptError
      if (waitError !== null) throw waitError
      if (Number(acknowledged) < minReplicas) {
        throw new ReplicasMissingError(`${String(acknowledged)} of ${minReplicas} replicas acknowledged the write within ${timeoutMs} ms`)
      }
      return result
    },
    ready: async () => {
      const waited = connection
      if (waited.status !== 'ready') await new Promise<void>((resolve) => { waited.once('ready', () => { resolve() }) })
    },
    close
  }
}
