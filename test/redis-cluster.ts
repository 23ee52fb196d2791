import { spawn } from 'node:child_process'
import { Cluster, type ClusterOptions, type Redis } from 'ioredis'
import { RedisServer, eventually } from './redis-server'

type Teardown = { teardown (fn: () => unknown): void }

/** Runs `redis-cli` with `args` and resolves with its output once it exits with 0. */
async function redisCli (args: string[]): Promise<string> {
  return await new Promise((resolve, reject) => {
    const child = spawn('redis-cli', args, { stdio: ['ignore', 'pipe', 'pipe'] })
    let output = ''
    child.stdout.on('data', (chunk: Buffer) => { output += String(chunk) })
    child.stderr.on('data', (chunk: Buffer) => { output += String(chunk) })
    child.once('error', reject)
    child.once('exit', (code) => code === 0 ? resolve(output) : reject(new Error(`redis-cli exited (${code}): ${output}`)))
  })
}

/** A real Redis Cluster of three masters and no replicas, each a `redis-server` on a free port. */
export class RedisClusterServers {
  private readonly clients: Cluster[] = []

  private constructor (readonly nodes: RedisServer[]) {}

  /** Starts three `--cluster-enabled` servers, joins them with `redis-cli --cluster create`, and waits until the cluster is ok. */
  static async start (t: Teardown): Promise<RedisClusterServers> {
    const nodes = await Promise.all([0, 1, 2].map(async () => await RedisServer.start(t, {
      args: ['--cluster-enabled', 'yes', '--cluster-node-timeout', '2000']
    })))
    const cluster = new RedisClusterServers(nodes)
    t.teardown(() => { for (const client of cluster.clients) client.disconnect() })
    await redisCli(['--cluster', 'create', ...nodes.map((node) => `127.0.0.1:${node.port}`), '--cluster-replicas', '0', '--cluster-yes'])
    const admins = await Promise.all(nodes.map(async (node) => await node.admin()))
    await eventually(async () => (await Promise.all(admins.map(async (admin) => String(await admin.call('CLUSTER', 'INFO')))))
      .every((info) => info.includes('cluster_state:ok')))
    return cluster
  }

  /** An ioredis `Cluster` client on these nodes, failing fast as the README advises; disconnected after the test. */
  client (options: ClusterOptions = {}): Cluster {
    const client = new Cluster(this.nodes.map((node) => ({ host: '127.0.0.1', port: node.port })), {
      enableOfflineQueue: true,
      redisOptions: { maxRetriesPerRequest: 1, connectTimeout: 500, commandTimeout: 1000 },
      ...options
    })
    client.on('error', () => {})
    this.clients.push(client)
    return client
  }

  /** A connected `Cluster` client. */
  async ready (options: ClusterOptions = {}): Promise<Cluster> {
    const client = this.client(options)
    if (client.status !== 'ready') await new Promise((resolve) => client.once('ready', resolve))
    return client
  }
}

/** A master and one replica of it, each a real `redis-server`; resolves once the replica is in sync. */
export async function startReplicated (t: Teardown): Promise<{ master: RedisServer, replica: RedisServer, admin: Redis }> {
  // No five-second wait before the first full sync (the default diskless sync delay).
  const master = await RedisServer.start(t, { args: ['--repl-diskless-sync-delay', '0'] })
  const replica = await RedisServer.start(t, { args: ['--replicaof', '127.0.0.1', String(master.port)] })
  const admin = await master.admin()
  await replicaOnline(admin)
  return { master, replica, admin }
}

/**
 * Resolves once the master `admin` is connected to sees its replica online and acknowledging:
 * right after a full sync, the first WAIT was seen to take its whole timeout on Redis 7.0.
 */
export async function replicaOnline (admin: Redis): Promise<void> {
  await eventually(async () => /^slave0:.*state=online/m.test(String(await admin.call('INFO', 'replication'))))
  await admin.set('replica-warm-up', '1')
  await eventually(async () => Number(await admin.call('WAIT', 1, 100)) === 1)
  await admin.del('replica-warm-up')
}
