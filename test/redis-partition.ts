import { Socket, createServer, type Server } from 'node:net'
import { freePort } from './redis-server'

type Teardown = { teardown (fn: () => unknown): void }

/**
 * A TCP proxy in front of the master, for the sentinels and the replica only (the application's
 * client reaches the master directly, through ioredis' `natMap`): {@link cut} stops every byte
 * both ways without closing anything, as a network partition does, and {@link heal} ends it.
 */
export class Partition {
  private readonly pairs = new Set<[Socket, Socket]>()
  private isCut = false

  private constructor (private readonly server: Server, readonly port: number, private readonly target: number) {}

  /** Starts a proxy on a free port that forwards to `target`. */
  static async start (t: Teardown, target: number): Promise<Partition> {
    const port = await freePort()
    const server = createServer()
    const proxy = new Partition(server, port, target)
    server.on('connection', (socket) => { proxy.accept(socket) })
    await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve))
    t.teardown(() => { proxy.dropAll(); server.close() })
    return proxy
  }

  private accept (downstream: Socket): void {
    const upstream = new Socket()
    const pair: [Socket, Socket] = [downstream, upstream]
    this.pairs.add(pair)
    const drop = (): void => { this.pairs.delete(pair); downstream.destroy(); upstream.destroy() }
    downstream.on('error', drop).on('close', drop)
    upstream.on('error', drop).on('close', drop)
    if (this.isCut) { downstream.pause(); return }
    upstream.connect(this.target, '127.0.0.1')
    downstream.pipe(upstream)
    upstream.pipe(downstream)
  }

  /** Silences every connection, open and new, in both directions. */
  cut (): void {
    this.isCut = true
    for (const [downstream, upstream] of this.pairs) {
      downstream.unpipe(upstream)
      upstream.unpipe(downstream)
      downstream.pause()
      upstream.pause()
    }
  }

  /** Ends the partition: the silenced connections are closed (each side reconnects), new ones pass. */
  heal (): void {
    this.isCut = false
    this.dropAll()
  }

  private dropAll (): void {
    for (const [downstream, upstream] of this.pairs) { downstream.destroy(); upstream.destroy() }
    this.pairs.clear()
  }
}
