import type { RedisClient } from '../../types'
import { memoryStore } from '../memory/store'
import { parseCutoff } from './values'

/** A copy of the revocations in Redis, kept in this process and current through pub/sub. */
export interface RedisMirror {
  /** The largest cut-off among `keys`; throws while the copy cannot be trusted. */
  cutoff (keys: readonly string[]): number | undefined
  /** Records a revocation this process made, without waiting for its echo. */
  record (key: string, cutoff: number, expiresAt: number): void
  /** Resolves once the copy is loaded and subscribed. */
  ready (): Promise<void>
  /** Stops the subscription (its own connection); the host's client is left alone. */
  close (): Promise<void>
}

/** Keys fetched per SCAN step while loading. */
const SCAN_COUNT = 1000
/** Wait before trying to load again after a failure, in milliseconds. */
const RETRY_DELAY = 500

/** A SCAN pattern that matches `prefix` literally. */
function globEscape (prefix: string): string {
  return prefix.replace(/[*?[\]\\]/g, (character) => `\\${character}`)
}

/** A pub/sub message `[key, cutoff, expiresAt]`, or undefined when it is not one. */
function parseMessage (message: string): [string, number, number] | undefined {
  try {
    const value: unknown = JSON.parse(message)
    if (Array.isArray(value) && value.length === 3 && typeof value[0] === 'string' &&
      Number.isFinite(value[1]) && Number.isFinite(value[2])) return value as [string, number, number]
  } catch {}
  return undefined
}

/**
 * Starts a mirror: subscribes first on a connection of its own, then loads every revocation
 * under `prefix`, so that nothing published during the load is missed (applying one twice
 * changes nothing: a cut-off only grows). Whenever the subscription drops, the copy is
 * distrusted (`cutoff` throws, so requests get 503) until it is subscribed and loaded again.
 */
export function startRedisMirror (client: RedisClient, prefix: string, channel: string, maxEntries: number): RedisMirror {
  const entries = memoryStore({ maxEntries })
  const subscriber = client.duplicate()
  let inSync = false
  let generation = 0
  let retry: NodeJS.Timeout | undefined
  let markReady!: () => void
  const readiness = new Promise<void>((resolve) => { markReady = resolve })

  async function load (): Promise<void> {
    let cursor = '0'
    do {
      const [next, keys] = await client.scan(cursor, 'MATCH', `${globEscape(prefix)}*`, 'COUNT', SCAN_COUNT)
      cursor = next
      const pipeline = client.pipeline()
      for (const key of keys) pipeline.get(key).call('EXPIRETIME', key)
      // Never null: exec() answers null only for a discarded MULTI.
      const replies = await pipeline.exec() as Array<[Error | null, unknown]>
      keys.forEach((key, index) => {
        const value = (replies[2 * index] as [Error | null, unknown])[1]
        const expiresAt = (replies[2 * index + 1] as [Error | null, number])[1]
        // As in lookup mode: a key of another type is not ours and is read past (its GET fails);
        // a string is a revocation, kept forever if something stored it with no expiry.
        if (typeof value === 'string') {
          entries.revoke(key.slice(prefix.length), parseCutoff(value), expiresAt > 0 ? expiresAt : Number.MAX_SAFE_INTEGER)
        }
      })
    } while (cursor !== '0')
  }

  /** Distrusts the copy; a load under way when this happens is not trusted either. */
  function distrust (): void {
    generation++
    inSync = false
  }

  async function resync (): Promise<void> {
    distrust()
    const attempt = generation
    clearTimeout(retry)
    try {
      await subscriber.subscribe(channel)
      await load()
      if (attempt !== generation) return
      inSync = true
      markReady()
    } catch {
      if (attempt === generation) retry = setTimeout(() => { void resync() }, RETRY_DELAY).unref()
    }
  }

  subscriber.on('message', (_channel: string, message: string) => {
    const revocation = parseMessage(message)
    if (revocation === undefined) {
      // Something else publishes on our channel: the copy may have missed a real message.
      void resync()
      return
    }
    try {
      entries.revoke(...revocation)
    } catch {
      // The copy is full of live revocations: it cannot hold this one, so it cannot be trusted.
      distrust()
    }
  })
  subscriber.on('close', distrust)
  subscriber.on('ready', () => { void resync() })
  // Connection errors surface as 'close'; a listener keeps ioredis from reporting them as unhandled.
  subscriber.on('error', () => {})

  async function close (): Promise<void> {
    distrust()
    clearTimeout(retry)
    subscriber.disconnect()
  }
  // The mirror lives as long as the host's client: when the host quits it, the mirror goes too.
  client.once('end', () => { void close() })
  // A duplicate of a lazyConnect client waits for a first command; a subscriber must connect now.
  if (subscriber.status === 'wait') subscriber.connect().catch(() => {})

  return {
    cutoff (keys) {
      if (!inSync) throw new Error('the revocation mirror is not in sync with Redis')
      return entries.cutoff(keys)
    },
    record (key, cutoff, expiresAt) {
      entries.revoke(key, cutoff, expiresAt)
    },
    ready: async () => await readiness,
    close
  }
}
