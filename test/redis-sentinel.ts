import { spawn, type ChildProcess } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Redis, type RedisOptions } from 'ioredis'
import { Partition } from './redis-partition'
import { RedisServer, connected, eventually, freePort } from './redis-server'

type Teardown = { teardown (fn: () => unknown): void }

/** The master's name in every sentinel's configuration. */
export const MASTER_NAME = 'mymaster'

/** The sentinels' timings: small, so that a failover takes seconds, not half a minute. */
export interface SentinelTimings {
  /** `down-after-milliseconds`: how long a master may be silent before it is taken for down. */
  downAfter?: number
  /** `failover-timeout`, in milliseconds. */
  failoverTimeout?: number
  /** Sentinels and the replicas reach the master through a proxy that {@link Partition.cut} can cut. */
  partitionable?: boolean
  /** How many replicas the master has: 1 (the default) or more. */
  replicas?: number
  /** Raw `redis-server` arguments for the master and every replica (any of them may become master). */
  serverArgs?: string[]
}

/** One event a sentinel published (`+sdown`, `+odown`, `+switch-master`, ...), timed. */
export interface SentinelEvent {
  /** `performance.now()` when it arrived. */
  readonly at: number
  readonly channel: string
  readonly message: string
}

/** A `redis-server --sentinel` on a free port, in a directory of its own (Sentinel rewrites its file). */
async function startSentinel (t: Teardown, masterPort: number, timings: Required<SentinelTimings>): Promise<number> {
  const port = await freePort()
  const dir = mkdtempSync(join(tmpdir(), 'jwt-session-sentinel-'))
  const file = join(dir, 'sentinel.conf')
  writeFileSync(file, [
    `port ${port}`, 'bind 127.0.0.1', `dir ${dir}`,
    `sentinel monitor ${MASTER_NAME} 127.0.0.1 ${masterPort} 2`,
    `sentinel down-after-milliseconds ${MASTER_NAME} ${timings.downAfter}`,
    `sentinel failover-timeout ${MASTER_NAME} ${timings.failoverTimeout}`,
    `sentinel parallel-syncs ${MASTER_NAME} 1`, ''
  ].join('\n'))
  const child: ChildProcess = spawn('redis-server', [file, '--sentinel'], { stdio: ['ignore', 'pipe', 'pipe'] })
  t.teardown(async () => {
    if (child.exitCode === null && child.signalCode === null) {
      await new Promise((resolve) => { child.once('exit', resolve); child.kill('SIGKILL') })
    }
    rmSync(dir, { recursive: true, force: true })
  })
  await new Promise<void>((resolve, reject) => {
    let output = ''
    child.stdout?.on('data', (chunk: Buffer) => {
      output += String(chunk)
      if (output.includes('+monitor master')) resolve()
    })
    child.once('error', reject)
    child.once('exit', (code) => reject(new Error(`redis-server --sentinel exited (${code}): ${output}`)))
  })
  return port
}

/**
 * A master, one replica of it (or more) and three sentinels (quorum 2), each a real process on
 * a free port; {@link SentinelGroup.start} resolves once every sentinel knows the replicas and
 * the other two sentinels, so that a failover can be agreed on.
 */
export class SentinelGroup {
  /**
   * Events published by the sentinels, in order of arrival, each the first time any sentinel
   * published it (they learn a switch one after the other: the first one is when it happened).
   */
  readonly events: SentinelEvent[] = []
  private readonly clients: Redis[] = []
  private closing = false

  private constructor (
    readonly master: RedisServer,
    readonly replicas: RedisServer[],
    readonly sentinelPorts: number[],
    readonly partition: Partition | undefined
  ) {}

  /** Starts the group; `timings` default to 1000 ms down-after, 2000 ms failover-timeout and one replica. */
  static async start (t: Teardown, timings: SentinelTimings = {}): Promise<SentinelGroup> {
    const settings = { downAfter: 1000, failoverTimeout: 2000, partitionable: false, replicas: 1, serverArgs: [], ...timings }
    // No wait before a full sync (the default diskless sync delay is 5 s): either node may be master.
    const sync = ['--repl-diskless-sync-delay', '0', ...settings.serverArgs]
    const master = await RedisServer.start(t, { args: sync })
    const admin = await master.admin()
    const partition = settings.partitionable ? await Partition.start(t, master.port) : undefined
    // Seen through the proxy, the master must announce the proxy's port once it is a replica too.
    const announced = partition?.port ?? master.port
    await admin.call('CONFIG', 'SET', 'replica-announce-port', String(announced))
    const replicas: RedisServer[] = []
    for (let index = 0; index < settings.replicas; index++) {
      replicas.push(await RedisServer.start(t, { args: ['--replicaof', '127.0.0.1', String(announced), ...sync] }))
    }
    const group = new SentinelGroup(master, replicas, [], partition)
    t.teardown(() => { group.closing = true; for (const client of group.clients) client.disconnect() })
    await eventually(async () => (String(await admin.call('INFO', 'replication')).match(/^slave\d+:.*state=online/mg) ?? []).length === settings.replicas)
    for (let index = 0; index < 3; index++) group.sentinelPorts.push(await startSentinel(t, announced, settings))
    const sentinels = await Promise.all(group.sentinelPorts.map(async (port) => await group.sentinel(port)))
    await eventually(async () => (await Promise.all(sentinels.map(async (sentinel) => {
      const fields = await sentinel.call('SENTINEL', 'MASTER', MASTER_NAME) as string[]
      const field = (name: string): number => Number(fields[fields.indexOf(name) + 1])
      return field('num-slaves') >= settings.replicas && field('num-other-sentinels') === 2
    }))).every(Boolean), 20_000)
    const seen = new Set<string>()
    for (const listener of sentinels) {
      listener.on('pmessage', (_pattern: string, channel: string, message: string) => {
        const key = `${channel} ${message}`
        if (seen.has(key)) return
        seen.add(key)
        group.events.push({ at: performance.now(), channel, message })
      })
      await listener.psubscribe('*')
    }
    return group
  }

  /** The first replica: the one Sentinel promotes when it is the only one. */
  get replica (): RedisServer {
    return this.replicas[0] as RedisServer
  }

  /** The node the sentinels now name as master (after a failover, the promoted replica). */
  async current (): Promise<RedisServer> {
    const sentinel = await this.sentinel(this.sentinelPorts[0] as number)
    const [, port] = await sentinel.call('SENTINEL', 'GET-MASTER-ADDR-BY-NAME', MASTER_NAME) as [string, string]
    sentinel.disconnect()
    const found = Number(port) === this.partition?.port ? this.master : [this.master, ...this.replicas].find((server) => server.port === Number(port))
    if (found === undefined) throw new Error(`the sentinels name an unknown master, port ${port}`)
    return found
  }

  /** A plain client on the sentinel at `port`, connected. */
  private async sentinel (port: number): Promise<Redis> {
    const client = new Redis({ host: '127.0.0.1', port, enableOfflineQueue: true })
    client.on('error', () => {})
    this.clients.push(client)
    await connected(client)
    return client
  }

  /**
   * An ioredis client that finds the master through the sentinels, with the README's settings:
   * no offline queue, one retry, a reconnection as soon as Sentinel switches (`failoverDetector`)
   * or a demoted master answers READONLY; reconnection attempts at most 500 ms apart (the
   * detector listens only while connected: with ioredis' default backoff, up to 2 s apart, a
   * client that lost its master finds the new one up to 2 s after the switch), and a connection
   * to a master that no longer answers dropped 100 ms after the switch rather than 2 s
   * (`disconnectTimeout`: ioredis half-closes it, and a frozen master never closes its side).
   * Disconnected after the test.
   *
   * And one guard: with ioredis 6.0, a `+switch-master` that reaches the failover detector while
   * the client is between two reconnection attempts (its master died) ends the client for good:
   * the detector disconnects the connector during its sentinel lookup, the lookup rejects with
   * "Connection is closed.", and ioredis turns that rejection into status `end`, with no retry
   * (`Redis.connect`). Ended by anything but our own `disconnect()`, the client connects again.
   */
  client (options: RedisOptions = {}): Redis {
    const client = new Redis({
      sentinels: this.sentinelPorts.map((port) => ({ host: '127.0.0.1', port })),
      name: MASTER_NAME,
      role: 'master',
      failoverDetector: true,
      reconnectOnError: (error) => error.message.startsWith('READONLY'),
      enableOfflineQueue: false,
      maxRetriesPerRequest: 1,
      connectTimeout: 1000,
      commandTimeout: 1000,
      retryStrategy: (times) => Math.min(times * 50, 500),
      disconnectTimeout: 100,
      // Behind the proxy, the sentinels name the master by the proxy's port: the application reaches it directly.
      ...(this.partition === undefined ? {} : { natMap: { [`127.0.0.1:${this.partition.port}`]: { host: '127.0.0.1', port: this.master.port } } }),
      ...options
    })
    client.on('error', () => {})
    client.on('end', () => {
      if (!this.closing) setTimeout(() => { if (!this.closing && client.status === 'end') client.connect().catch(() => {}) }, 100)
    })
    this.clients.push(client)
    return client
  }

  /** The first event on `channel` at or after `since` (`performance.now()`), waiting for it up to `limit` ms. */
  async event (channel: string, since = 0, limit = 30_000): Promise<SentinelEvent> {
    let found: SentinelEvent | undefined
    await eventually(async () => {
      found = this.events.find((event) => event.channel === channel && event.at >= since)
      return found !== undefined
    }, limit)
    return found as SentinelEvent
  }

  /** The pid of `server`'s process, which it reports itself (for SIGSTOP and SIGCONT). */
  async pid (server: RedisServer): Promise<number> {
    const admin = await server.admin()
    const info = String(await admin.call('INFO', 'server'))
    admin.disconnect()
    return Number(/^process_id:(\d+)/m.exec(info)?.[1])
  }
}

/**
 * Resolves once `server` is a replica in sync with its master (`master_link_status:up`) and
 * that master sees it online: then `WAIT 1` can succeed again.
 */
export async function rejoined (server: RedisServer, limit = 30_000): Promise<number> {
  const admin = server.client({ enableOfflineQueue: true, maxRetriesPerRequest: 0, commandTimeout: 500 })
  try {
    return await eventually(async () => {
      try {
        return /^master_link_status:up/m.test(String(await admin.call('INFO', 'replication')))
      } catch {
        return false
      }
    }, limit)
  } finally {
    admin.disconnect()
  }
}
