import type { RedisClient, SessionRecord } from '../../types'
import { SessionTables } from '../memory/tables'
import { parseCutoff, parseSession } from './values'

/** What a Redis key holds: a session (`s`) or a user (`u`). */
export type Kind = 's' | 'u'

/** A copy of the sessions' state in Redis, kept in this process and current through pub/sub. */
export interface RedisMirror {
  /** The session's record; throws while the copy cannot be trusted. */
  session (sid: string): SessionRecord | undefined
  /** The user's cut-off; throws while the copy cannot be trusted. */
  subject (sub: string): number | undefined
  /** Records a value this process wrote, without waiting for its echo. */
  apply (kind: Kind, id: string, value: string, expiresAt: number): void
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

/** A pub/sub message `[kind, id, value, expiresAt]`, or undefined when it is not one. */
function parseMessage (message: string): [Kind, string, string, number] | undefined {
  try {
    const value: unknown = JSON.parse(message)
    if (Array.isArray(value) && value.length === 4 && (value[0] === 's' || value[0] === 'u') &&
      typeof value[1] === 'string' && typeof value[2] === 'string' && Number.isFinite(value[3])) return value as [Kind, string, string, number]
  } catch {}
  return undefined
}

const seconds = (): number => Math.floor(Date.now() / 1000)

/**
 * Starts a mirror: subscribes first on a connection of its own, then loads the session and
 * user keys under `prefix` (and no other), so that nothing published during the load is
 * missed: applying a value twice, or an older one after a newer, changes nothing (an end
 * stays, a generation and a cut-off only grow). Whenever the subscription drops, the copy is
 * distrusted (reads throw, so requests get 503) until it is subscribed and loaded again.
 */
export function startRedisMirror (client: RedisClient, prefix: string, channel: string, maxEntries: number): RedisMirror {
  const tables = new SessionTables(maxEntries)
  const subscriber = client.duplicate()
  let inSync = false
  let attempts = 0
  let retry: NodeJS.Timeout | undefined
  let markReady!: () => void
  const readiness = new Promise<void>((resolve) => { markReady = resolve })

  function apply (kind: Kind, id: string, value: string, expiresAt: number): void {
    const now = seconds()
    if (kind === 'u') {
      const old = tables.subjectEntry(id)
      tables.setSubject(id, Math.max(parseCutoff(value), old?.cutoff ?? 0), Math.max(expiresAt, old?.expiresAt ?? 0), now)
      return
    }
    const record = parseSession(value)
    const current = tables.session(id)
    if (current !== undefined && (current.ended || (!record.ended && current.generation >= record.generation))) return
    tables.setSession(id, record, Math.max(expiresAt, tables.sessionExpiry(id)), now)
  }

  async function load (kind: Kind): Promise<void> {
    const keyPrefix = `${prefix}${kind}:`
    let cursor = '0'
    do {
      const [next, keys] = await client.scan(cursor, 'MATCH', `${globEscape(keyPrefix)}*`, 'COUNT', SCAN_COUNT)
      cursor = next
      const pipeline = client.pipeline()
      for (const key of keys) pipeline.get(key).call('EXPIRETIME', key)
      // Never null: exec() answers null only for a discarded MULTI.
      const replies = await pipeline.exec() as Array<[Error | null, unknown]>
      keys.forEach((key, index) => {
        const value = (replies[2 * index] as [Error | null, unknown])[1]
        const expiresAt = (replies[2 * index + 1] as [Error | null, number])[1]
        // As in lookup mode: a key of another type is not ours and is read past (its GET fails);
        // a string is kept forever if something stored it with no expiry.
        if (typeof value === 'string') apply(kind, key.slice(keyPrefix.length), value, expiresAt > 0 ? expiresAt : Number.MAX_SAFE_INTEGER)
      })
    } while (cursor !== '0')
  }

  /** Distrusts the copy; a load under way when this happens is not trusted either. */
  function distrust (): void {
    attempts++
    inSync = false
  }

  async function resync (): Promise<void> {
    distrust()
    const attempt = attempts
    clearTimeout(retry)
    try {
      await subscriber.subscribe(channel)
      await load('s')
      await load('u')
      if (attempt !== attempts) return
      inSync = true
      markReady()
    } catch {
      if (attempt === attempts) retry = setTimeout(() => { void resync() }, RETRY_DELAY).unref()
    }
  }

  subscriber.on('message', (_channel: string, message: string) => {
    const change = parseMessage(message)
    if (change === undefined) {
      // Something else publishes on our channel: the copy may have missed a real message.
      void resync()
      return
    }
    try {
      apply(...change)
    } catch {
      // The copy is full of live entries: it cannot hold this one, so it cannot be trusted.
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

  /** Throws while the copy cannot be trusted. */
  function trusted (): void {
    if (!inSync) throw new Error('the revocation mirror is not in sync with Redis')
  }

  return {
    session (sid) {
      trusted()
      return tables.session(sid)
    },
    subject (sub) {
      trusted()
      return tables.subject(sub)
    },
    apply,
    ready: async () => await readiness,
    close
  }
}
