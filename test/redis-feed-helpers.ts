import type { Test } from 'tap'
import { request as httpRequest } from 'node:http'
import { createServer, connect, type Socket } from 'node:net'
import Fastify, { type FastifyInstance } from 'fastify'
import jwtAuth, { redisStore, type RedisClient, type RedisStore } from '../lib/index'
import { bearer, SECRET, verifyCredentials } from './helpers'
import { consumerApp, eventually, FEED_HEADERS, ISSUER, loginAt, statusOf } from './feed-helpers'

/*
 * What the tests of the feed on the Redis store share: issuer instances on one Redis (each
 * its own client, store and port, all with one secret and prefix), a proxy a consumer follows
 * and that the test moves from one instance to another, and a raw reader of the feed.
 */

type Teardown = { teardown (fn: () => unknown): void }

/** One issuer instance: its app, its store, its port. */
export interface Instance {
  readonly app: FastifyInstance
  readonly store: RedisStore
  readonly url: string
  readonly port: number
}

/** An issuer on `client` (its own), listening on a loopback port; `feed: false` serves no feed. */
export async function redisIssuer (t: Teardown, client: RedisClient, options: { feed?: boolean, mode?: 'mirror' | 'lookup' } = {}): Promise<Instance> {
  const store = redisStore({ client, mode: options.mode ?? 'mirror' })
  const app = Fastify()
  t.teardown(() => app.close())
  await app.register(jwtAuth, {
    secret: SECRET,
    issuer: ISSUER,
    renewGrace: 0,
    verifyCredentials,
    revocationStore: store,
    ...(options.feed === false ? {} : { revocationFeed: { authorize: (request) => request.headers['x-feed-key'] === FEED_HEADERS['x-feed-key'] } })
  })
  await app.listen({ port: 0, host: '127.0.0.1' })
  const port = (app.server.address() as { port: number }).port
  return { app, store, url: `http://127.0.0.1:${port}`, port }
}

/** A TCP proxy to one instance at a time: `moveTo` cuts every connection and sends new ones to another. */
export interface MovingProxy {
  readonly url: string
  /** Connections made to each port so far. */
  readonly connections: Map<number, number>
  moveTo (port: number): void
}

/** Starts a {@link MovingProxy} towards `port`; closed after the test. */
export async function movingProxy (t: Teardown, port: number): Promise<MovingProxy> {
  let target = port
  const open = new Set<Socket>()
  const connections = new Map<number, number>()
  const server = createServer((socket) => {
    const upstream = connect(target, '127.0.0.1')
    connections.set(target, (connections.get(target) ?? 0) + 1)
    for (const [from, to] of [[socket, upstream], [upstream, socket]] as const) {
      open.add(from)
      from.pipe(to)
      from.on('error', () => { to.destroy() })
      from.on('close', () => { open.delete(from); to.destroy() })
    }
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  t.teardown(() => {
    for (const socket of open) socket.destroy()
    server.close()
  })
  return {
    url: `http://127.0.0.1:${(server.address() as { port: number }).port}`,
    connections,
    moveTo (port) {
      target = port
      for (const socket of open) socket.destroy()
    }
  }
}

/** Logs `token` out at `app` (`all`: everywhere); answers the status. */
export async function logout (app: FastifyInstance, token: string, all = false): Promise<number> {
  return (await app.inject({ method: 'POST', url: '/@logout', headers: bearer(token), ...(all ? { payload: { all: true } } : {}) })).statusCode
}

/** The SSE events of a feed's text: their ids (when any) and types, complete events only. */
export function events (text: string): Array<{ id: string | undefined, type: string }> {
  return text.split('\n\n').slice(0, -1).map((block) => {
    const id = /^id: (.*)$/m.exec(block)?.[1]
    const data = /^data: (.*)$/m.exec(block)?.[1] as string
    const payload = JSON.parse(Buffer.from(data.split('.')[1] as string, 'base64url').toString())
    const type = Object.keys(payload.events)[0] as string
    return { id, type: type.slice(type.lastIndexOf(':') + 1).replace(/^.*\//, '') }
  })
}

/**
 * Reads `url`'s feed (with `lastEventId` when given) until `stop` holds for its events, or
 * the stream ends; answers its events and whether it ended.
 */
export async function readFeed (url: string, lastEventId: string | undefined, stop: (read: ReturnType<typeof events>) => boolean): Promise<{ events: ReturnType<typeof events>, ended: boolean }> {
  return await new Promise((resolve, reject) => {
    const headers = { ...FEED_HEADERS, ...(lastEventId === undefined ? {} : { 'last-event-id': lastEventId }) }
    const request = httpRequest(`${url}/@revocations`, { headers }, (response) => {
      let text = ''
      response.setEncoding('utf8')
      response.on('data', (chunk: string) => {
        text += chunk
        if (!stop(events(text))) return
        request.destroy()
        resolve({ events: events(text), ended: false })
      })
      response.on('end', () => resolve({ events: events(text), ended: true }))
      response.on('error', () => resolve({ events: events(text), ended: true }))
    })
    request.on('error', reject)
    request.end()
  })
}

/** The last cursor among `read`. */
export const lastId = (read: ReturnType<typeof events>): string => read.filter((event) => event.id !== undefined).at(-1)?.id as string

/** Three instances with a feed and one without (`quiet`), each with a client of its own from `client()`. */
export async function instances (t: Teardown, client: () => Promise<RedisClient>, mode: 'mirror' | 'lookup'): Promise<{ feeds: [Instance, Instance, Instance], quiet: Instance }> {
  const issuer = async (feed: boolean): Promise<Instance> => await redisIssuer(t, await client(), { mode, feed })
  return { feeds: [await issuer(true), await issuer(true), await issuer(true)], quiet: await issuer(false) }
}

/** Waits until every token of `tokens` is refused by `consumer`. */
async function refused (consumer: FastifyInstance, tokens: string[]): Promise<boolean> {
  return await eventually(async () => (await Promise.all(tokens.map(async (token) => await statusOf(consumer, token)))).every((status) => status === 401))
}

/**
 * A consumer follows the first instance through a proxy, then is moved to the second (it
 * reconnects with its Last-Event-ID): logouts made on every instance, the one without a feed
 * too, before, during and after the move are all refused at the consumer.
 */
export async function consumerMoved (t: Test, { feeds: [a, b, c], quiet }: { feeds: [Instance, Instance, Instance], quiet: Instance }): Promise<void> {
  const proxy = await movingProxy(t, a.port)
  const consumer = await consumerApp(t, proxy.url, 'secret')
  const apps = [a.app, b.app, c.app, quiet.app]
  const tokens: string[] = []
  for (let index = 0; index < 10; index++) tokens.push(await loginAt(apps[index % 4] as FastifyInstance))
  const bob = await loginAt(b.app, 'bob')
  t.ok(await eventually(async () => await statusOf(consumer, tokens[0] as string) === 200), 'the consumer is ready')

  t.equal(await logout(b.app, tokens[0] as string), 204)
  t.equal(await logout(quiet.app, tokens[1] as string), 204)
  t.ok(await refused(consumer, tokens.slice(0, 2)), 'before the move: logouts at another instance, and at one without a feed')

  proxy.moveTo(b.port)
  t.equal(await logout(c.app, tokens[2] as string), 204)
  t.equal(await logout(quiet.app, tokens[3] as string), 204)
  t.equal(await logout(a.app, tokens[4] as string), 204)
  t.ok(await eventually(async () => (proxy.connections.get(b.port) ?? 0) > 0 && await statusOf(consumer, tokens[9] as string) === 200), 'the consumer follows the other instance')
  t.ok(await refused(consumer, tokens.slice(0, 5)), 'during the move: none missed')

  t.equal(await logout(a.app, tokens[5] as string), 204)
  t.equal(await logout(quiet.app, tokens[6] as string), 204)
  t.equal(await logout(c.app, bob, true), 204)
  const renewed = (await c.app.inject({ method: 'POST', url: '/@login-renew', headers: bearer(tokens[7] as string) })).json().token as string
  t.ok(await refused(consumer, [...tokens.slice(0, 8), bob]), 'after the move: logouts, logout everywhere and a renewed-away token')
  t.equal(await statusOf(consumer, renewed), 200, 'the renewed token passes')
  t.equal(await statusOf(consumer, tokens[9] as string), 200, 'a session nobody ended passes')
  t.equal(proxy.connections.get(a.port), 1, 'one connection to the first instance')
}
