import { createServer, connect, type Server, type Socket } from 'node:net'
import { test } from 'tap'
import { redisStore } from '../../lib/index'
import { bearer, buildApp, login } from '../helpers'
import { RedisServer, connected, eventually } from '../redis-server'

/*
 * A network cut between one instance and Redis that sends no reset (a firewall dropping
 * packets, a NAT entry gone, a cloud load balancer's idle timeout): both of the instance's
 * connections stay open and silent. ioredis notices only through TCP keep-alive (hours, with
 * the OS defaults) or a command timeout. The other instances still reach Redis. The README:
 * "While the copy cannot be trusted (not loaded yet, subscription lost, Redis unreachable)
 * every request answers 503".
 *
 * The mirror distrusts its copy once no check of the logs succeeded for three periods: the
 * silent subscription says nothing, so only the failing checks can tell.
 */

/** A TCP relay to `port` that can stop relaying, both ways, without closing anything. */
async function relay (t: { teardown (fn: () => unknown): void }, port: number): Promise<{ port: number, cut (): void }> {
  let open = true
  const sockets: Socket[] = []
  const server: Server = createServer((inbound) => {
    const outbound = connect(port, '127.0.0.1')
    sockets.push(inbound, outbound)
    inbound.on('data', (chunk) => { if (open) outbound.write(chunk) })
    outbound.on('data', (chunk) => { if (open) inbound.write(chunk) })
    inbound.on('error', () => {})
    outbound.on('error', () => {})
    inbound.on('close', () => outbound.destroy())
    outbound.on('close', () => inbound.destroy())
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  t.teardown(() => { for (const socket of sockets) socket.destroy(); server.close() })
  const address = server.address()
  return { port: typeof address === 'object' && address !== null ? address.port : 0, cut: () => { open = false } }
}

test('an instance cut off from Redis without a reset stops answering from its copy', async (t) => {
  const server = await RedisServer.start(t)
  const cutOff = await relay(t, server.port)
  const client = server.client({ port: cutOff.port })
  await connected(client)
  const store = redisStore({ client })
  t.teardown(async () => await store.close())
  const app = await buildApp(t, { revocationStore: store })
  await store.ready()

  const otherClient = server.client()
  await connected(otherClient)
  const otherStore = redisStore({ client: otherClient })
  t.teardown(async () => await otherStore.close())
  const other = await buildApp(t, { revocationStore: otherStore })
  await otherStore.ready()

  const token = await login(app)
  cutOff.cut()
  t.equal((await other.inject({ method: 'POST', url: '/@logout', headers: bearer(token) })).statusCode, 204, 'logged out on the other instance')
  // Several checks' worth (each times out after the client's commandTimeout of 1 s).
  await eventually(async () => (await app.inject({ url: '/me', headers: bearer(token) })).statusCode !== 200, 5000).catch(() => {})
  const status = (await app.inject({ url: '/me', headers: bearer(token) })).statusCode
  t.not(status, 200, `the cut-off instance does not accept the logged-out token (status ${status})`)
})
