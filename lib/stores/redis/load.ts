import type { RedisClient } from '../../types'
import { decodeId } from './keys'
import { masterNodes } from './nodes'

/** What a Redis key holds: a session (`s`) or a user (`u`). */
export type Kind = 's' | 'u'

/** Receives one key's value while loading: its kind, its id (the key less its prefix), value and expiry (seconds). */
export type LoadedValue = (kind: Kind, id: string, value: string, expiresAt: number) => void

/** Keys fetched per SCAN step while loading. */
const SCAN_COUNT = 1000

/** A GET of a key of another type: not ours, read past as lookup mode does. */
const WRONG_TYPE = /^WRONGTYPE /

/** A SCAN pattern that matches `prefix` literally. */
function globEscape (prefix: string): string {
  return prefix.replace(/[*?[\]\\]/g, (character) => `\\${character}`)
}

/**
 * Reads every key of `kind` under `prefix` from every master, answering each to `loaded`.
 * SCAN is keyless: a Cluster client would send it to one node it picks and see a third of
 * the keys, so each master is asked in turn, listed anew on every load (a failover or a
 * resharding changes them), and its keys are read on that master's own connection (a Cluster
 * pipeline refuses keys of different slots). Stops early once `wanted()`
 * says the load is no longer needed. Rejects when any key could not be read (a node that
 * failed, a key moved by a resharding): a copy with a key missing would let its tokens in.
 */
export async function loadKeys (client: RedisClient, prefix: string, loaded: LoadedValue, wanted: () => boolean): Promise<void> {
  for (const kind of ['s', 'u'] as const) await loadKind(client, prefix, kind, loaded, wanted)
}

async function loadKind (client: RedisClient, prefix: string, kind: Kind, loaded: LoadedValue, wanted: () => boolean): Promise<void> {
  const nodes = masterNodes(client)
  // A Cluster client that has not found its nodes yet: nothing was read, so nothing is loaded.
  if (nodes.length === 0) throw new Error('no Redis node is reachable yet')
  const keyPrefix = `${prefix}${kind}:`
  for (const node of nodes) {
    let cursor = '0'
    do {
      const [next, keys] = await node.scan(cursor, 'MATCH', `${globEscape(keyPrefix)}*`, 'COUNT', SCAN_COUNT)
      if (!wanted()) return
      cursor = next
      const pipeline = node.pipeline()
      for (const key of keys) pipeline.get(key).call('EXPIRETIME', key)
      // Never null: exec() answers null only for a discarded MULTI.
      const replies = await pipeline.exec() as Array<[Error | null, unknown]>
      keys.forEach((key, index) => {
        const [error, value] = replies[2 * index] as [Error | null, unknown]
        const expiresAt = (replies[2 * index + 1] as [Error | null, number])[1]
        if (error !== null && !WRONG_TYPE.test(error.message)) throw error
        // A string is kept forever if something stored it with no expiry.
        if (typeof value === 'string') loaded(kind, decodeId(key.slice(key.indexOf('}', keyPrefix.length) + 1)), value, expiresAt > 0 ? expiresAt : Number.MAX_SAFE_INTEGER)
      })
    } while (cursor !== '0')
  }
}
