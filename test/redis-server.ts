import { spawn, type ChildProcess } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Redis, type RedisOptions } from 'ioredis'

/** A free TCP port on the loopback interface. */
export async function freePort (): Promise<number> {
  return await new Promise((resolve, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const address = server.address()
      server.close(() => resolve(typeof address === 'object' && address !== null ? address.port : 0))
    })
  })
}

/** A real `redis-server` on a free port, in a directory of its own; never the default 6379. */
export class RedisServer {
  private child: ChildProcess | undefined
  private readonly clients: Redis[] = []

  private constructor (readonly port: number, readonly dir: string, private readonly args: string[]) {}

  /** Starts a server; `appendonly` turns on AOF persistence, `args` adds raw redis-server arguments. */
  static async start (t: { teardown (fn: () => unknown): void }, options: { appendonly?: boolean, args?: string[] } = {}): Promise<RedisServer> {
    const server = new RedisServer(await freePort(), mkdtempSync(join(tmpdir(), 'jwt-session-redis-')), [
      '--appendonly', options.appendonly === true ? 'yes' : 'no', '--appendfsync', 'always', '--save', '', ...(options.args ?? [])
    ])
    t.teardown(async () => await server.destroy())
    await server.run()
    return server
  }

  /** The process id of the running server (a benchmark reads its CPU time). */
  get pid (): number | undefined {
    return this.child?.pid
  }

  /** Starts (or restarts) the process and resolves once it accepts connections. */
  async run (): Promise<void> {
    const child = spawn('redis-server', ['--port', String(this.port), '--bind', '127.0.0.1', '--dir', this.dir, ...this.args], { stdio: ['ignore', 'pipe', 'pipe'] })
    this.child = child
    await new Promise<void>((resolve, reject) => {
      let output = ''
      child.stdout?.on('data', (chunk: Buffer) => {
        output += String(chunk)
        if (output.includes('Ready to accept connections')) resolve()
      })
      child.once('error', reject)
      child.once('exit', (code) => reject(new Error(`redis-server exited (${code}): ${output}`)))
    })
  }

  /** Stops the process: `SIGKILL` for a crash, `SIGTERM` for a clean shutdown. */
  async stop (signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    const child = this.child
    if (child === undefined || child.exitCode !== null || child.signalCode !== null) return
    await new Promise((resolve) => { child.once('exit', resolve); child.kill(signal) })
  }

  /** A client that fails fast rather than queue commands while Redis is away, as the README advises. */
  client (options: RedisOptions = {}): Redis {
    const client = new Redis({
      host: '127.0.0.1',
      port: this.port,
      enableOfflineQueue: false,
      maxRetriesPerRequest: 1,
      connectTimeout: 500,
      commandTimeout: 1000,
      retryStrategy: () => 100,
      ...options
    })
    client.on('error', () => {})
    this.clients.push(client)
    return client
  }

  /** A plain client for the test's own commands, connected. */
  async admin (): Promise<Redis> {
    const client = this.client({ enableOfflineQueue: true, maxRetriesPerRequest: 3 })
    await connected(client)
    return client
  }

  private async destroy (): Promise<void> {
    for (const client of this.clients) client.disconnect()
    await this.stop()
    rmSync(this.dir, { recursive: true, force: true })
  }
}

/** Resolves once `client` is connected. */
export async function connected (client: Redis): Promise<void> {
  if (client.status !== 'ready') await new Promise((resolve) => client.once('ready', resolve))
}

/**
 * Polls `check` every 10 ms until it is true, and answers the milliseconds it took. The limit
 * only stops a test that would otherwise wait for ever: it is no performance bound.
 */
export async function eventually (check: () => Promise<boolean>, limit = 10_000): Promise<number> {
  const started = Date.now()
  while (!await check()) {
    if (Date.now() - started > limit) throw new Error(`not true within ${limit} ms`)
    await new Promise((resolve) => setTimeout(resolve, 10))
  }
  return Date.now() - started
}
