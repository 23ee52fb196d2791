import type { RedisClient } from '../../types'

/*
 * What the store needs to know about Redis Cluster: a Cluster client sends a keyless command
 * (SCAN, INFO) to one node it picks, so whatever must reach every node asks each master in
 * turn. (Redis runs a multi-key command only when all its keys hash to one slot: the keys a
 * script touches share their bucket's hash tag, see keys.ts.)
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
