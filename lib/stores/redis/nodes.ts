import type { RedisClient } from '../../types'

/*
 * What the store needs to know about Redis Cluster. A Cluster client sends a keyless command
 * (SCAN, INFO) to one node it picks, so whatever must reach every node asks each master in
 * turn; and Redis runs a multi-key command only when all its keys hash to one slot. Today
 * every script and read of the store touches one key, so no key needs a tag; {@link hashTag}
 * is for an operation that would touch several (a key and a log of its changes, say).
 */

/** An ioredis `Cluster`, as far as the store uses it: its master nodes, each a plain client. */
interface ClusterClient extends RedisClient {
  nodes (role: 'master'): RedisClient[]
}

/** Whether `client` is an ioredis `Cluster` (a plain `Redis` has no `nodes()`). */
export function isCluster (client: RedisClient): client is ClusterClient {
  return typeof (client as Partial<ClusterClient>).nodes === 'function'
}

/**
 * The clients that together hold every key: a plain client is its own one node; a Cluster
 * answers one client per master it knows (ioredis connects to the masters as it discovers
 * the slots, so a Cluster that is not ready yet may answer none).
 *
 * @example
 * ```ts
 * for (const node of masterNodes(client)) await node.call('INFO', 'memory')
 * ```
 */
export function masterNodes (client: RedisClient): RedisClient[] {
  return isCluster(client) ? client.nodes('master') : [client]
}

/** Characters that would end or open a hash tag early, and the escape character itself. */
const TAG_SPECIAL = /[%{}]/g

/**
 * A hash tag for `owner` (a session's subject, say): `{...}`, never empty and with no brace
 * inside, so that Redis hashes every key carrying it by `owner` alone and a multi-key
 * command on those keys never answers `CROSSSLOT`. Distinct owners give distinct tags
 * (`%`, `{` and `}` are percent-escaped), so the tag may also serve as the key's identity.
 * A `prefix` that carries a hash tag of its own wins over this one: Redis takes the first
 * `{...}` of a key, and every key then lands in one slot.
 *
 * @example
 * ```ts
 * const userKey = `${prefix}u:${hashTag(sub)}`
 * const sessionKey = `${prefix}s:${hashTag(sub)}:${sid}` // same slot as userKey
 * ```
 */
export function hashTag (owner: string): string {
  // An empty tag `{}` would make Redis hash the whole key; `%` alone is no escape's output.
  if (owner === '') return '{%}'
  return `{${owner.replace(TAG_SPECIAL, (character) => `%${character.charCodeAt(0).toString(16).toUpperCase()}`)}}`
}
