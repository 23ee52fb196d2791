import type { RedisClient } from '../../types'
import { decodeId } from './keys'
import { masterNodes } from './nodes'

/** What a Redis key holds: a session (`s`) or a user (`u`). */
export type Kind = 's' | 'u'

/** Receives one key's value while loading: its kind, its id (the key less its prefix, kind and tag), value and expiry (seconds, this process' clock). */
export type LoadedValue = (kind: Kind, id: string, value: string, expiresAt: number) => void

/**
 * Keys SCAN walks per script call. Each call holds its Redis for 3-4 ms at 1,000 keys (other
 * clients wait meanwhile), so a step stays short; larger steps were no faster.
 */
const SCAN_COUNT = 1000

/**
 * One step of the load, inside Redis: a SCAN step, then every value and expiry it found, in
 * one reply `[cursor, sessions, users]`, each list flat `id, value, PTTL, ...` with the
 * id already cut out of its key. One command a step instead of two a key: the client's cost
 * per command was most of a load's time. The id is answered as a string of its own, never
 * cut from the key in this process, where a slice would keep the whole key alive as long as
 * the copy holds the id. A key of another type is read past (not ours, as lookup mode does);
 * any other error (a refused read) fails the call, and so the load. The flags let the script
 * read keys of many slots without declaring them: on a Cluster node they are all its own,
 * as SCAN lists only the node's keys.
 *
 * ARGV: cursor, SCAN pattern, COUNT, the prefix's length in bytes.
 */
const LOAD_STEP = `#!lua flags=no-writes,allow-cross-slot-keys
local step = redis.call('SCAN', ARGV[1], 'MATCH', ARGV[2], 'COUNT', ARGV[3])
local kindAt = tonumber(ARGV[4]) + 1
local found = { s = {}, u = {} }
local count = { s = 0, u = 0 }
for _, key in ipairs(step[2]) do
  local value = redis.pcall('GET', key)
  if type(value) == 'table' then
    if not string.find(value.err, '^WRONGTYPE') then return value end
  else
    -- The id follows the bucket's hash tag; a key without one is not the store's (no lookup would read it).
    local idAt = string.match(key, '^{%d+}()', kindAt + 2)
    if value and idAt then
      local kind = string.sub(key, kindAt, kindAt)
      local out, n = found[kind], count[kind]
      out[n + 1] = string.sub(key, idAt)
      out[n + 2] = value
      out[n + 3] = redis.call('PTTL', key)
      count[kind] = n + 3
    end
  end
end
return { step[1], found.s, found.u }
`

/** A step's reply: the next cursor, then the sessions and the users found, flat. */
type Step = [cursor: string, sessions: Array<string | number>, users: Array<string | number>]

/** A SCAN pattern that matches `prefix` literally. */
function globEscape (prefix: string): string {
  return prefix.replace(/[*?[\]\\]/g, (character) => `\\${character}`)
}

/**
 * Answers each `id, value, PTTL` triple of `found` to `loaded`, the key's remaining lifetime
 * added to this process' clock (Redis' may differ): read after Redis answered, so never
 * shorter than the truth. A key with no expiry (-1) is kept forever.
 */
function answer (kind: Kind, found: Array<string | number>, loaded: LoadedValue): void {
  const now = Date.now()
  for (let index = 0; index < found.length; index += 3) {
    const left = found[index + 2] as number
    loaded(kind, decodeId(found[index] as string), found[index + 1] as string, left >= 0 ? Math.ceil((now + left) / 1000) : Number.MAX_SAFE_INTEGER)
  }
}

/**
 * Reads every session and user key under `prefix` (`<prefix>s:{<bucket>}<sid>`,
 * `<prefix>u:{<bucket>}<sub>`, and no other: never the throttle's counters nor the logs) from
 * every master, in one pass, answering each to `loaded`. SCAN is keyless: a Cluster client
 * would send it to one node it picks and see a third of the keys, so each master is asked in
 * turn, listed anew on every load (a failover or a resharding changes them). The next step is
 * asked for before the one received is answered, so that Redis and this process work at once.
 * Stops early once `wanted()` says the load is no longer needed. Rejects when any key could
 * not be read (a node that failed, a key moved by a resharding, a read refused): a copy with
 * a key missing would let its tokens in.
 *
 * @example
 * ```ts
 * await loadKeys(client, 'jwt-session:', (kind, id, value, expiresAt) => copy.apply(kind, id, value, expiresAt), () => true)
 * ```
 */
export async function loadKeys (client: RedisClient, prefix: string, loaded: LoadedValue, wanted: () => boolean): Promise<void> {
  const nodes = masterNodes(client)
  // A Cluster client that has not found its nodes yet: nothing was read, so nothing is loaded.
  if (nodes.length === 0) throw new Error('no Redis node is reachable yet')
  const pattern = `${globEscape(prefix)}[su]:{*`
  const prefixBytes = Buffer.byteLength(prefix)
  const step = async (node: RedisClient, cursor: string): Promise<Step> => await node.eval(LOAD_STEP, 0, cursor, pattern, SCAN_COUNT, prefixBytes) as Step
  for (const node of nodes) {
    let pending = step(node, '0')
    try {
      while (true) {
        const [cursor, sessions, users] = await pending
        if (!wanted()) return
        if (cursor !== '0') pending = step(node, cursor)
        answer('s', sessions, loaded)
        answer('u', users, loaded)
        if (cursor === '0') break
      }
    } finally {
      // A step asked for and left behind (an early stop, a copy that overflowed) fails unheard.
      pending.catch(() => {})
    }
  }
}
