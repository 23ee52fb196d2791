import { test } from 'tap'
import type { Redis } from 'ioredis'
import { redisStore, type RedisClient } from '../../lib/index'
import { bucketOf } from '../../lib/stores/redis/keys'
import { startRedisMirror } from '../../lib/stores/redis/mirror'
import { bearer, buildApp, decodePayload, login } from '../helpers'
import { CHANNEL, commandCalls, endBy, ended, sameBucket } from '../redis-log'
import { RedisServer, connected, eventually } from '../redis-server'

/*
 * A client whose ACL allows only PUBLISH and SUBSCRIBE on the store's channel (a worker that
 * is meant to listen, a leaked credential): what it publishes must never decide what a mirror
 * believes. Messages are hints to read the logs, which only the store's scripts write.
 */

type Teardown = { teardown (fn: () => unknown): void }

const sleep = async (ms: number): Promise<void> => await new Promise((resolve) => setTimeout(resolve, ms))

/** A server with the user `attacker`, allowed PUBLISH and SUBSCRIBE on the channel and nothing else. */
async function serverWithAttacker (t: Teardown): Promise<{ server: RedisServer, admin: Redis, attacker: () => Promise<Redis> }> {
  const server = await RedisServer.start(t)
  const admin = await server.admin()
  await admin.call('ACL', 'SETUSER', 'attacker', 'on', '>attacker-password', 'resetkeys', 'resetchannels', '-@all', `&${CHANNEL}`, '+publish', '+subscribe')
  const attacker = async (): Promise<Redis> => {
    const client = server.client({ username: 'attacker', password: 'attacker-password', enableReadyCheck: false, enableOfflineQueue: true })
    await connected(client)
    return client
  }
  return { server, admin, attacker }
}

/** The messages heard on the channel by a new subscription of `client`, as they come. */
async function listen (client: Redis): Promise<unknown[][]> {
  const heard: unknown[][] = []
  client.on('message', (_channel: string, message: string) => { try { heard.push(JSON.parse(message)) } catch {} })
  await client.subscribe(CHANNEL)
  return heard
}

/** A Redis payload larger than the default pub/sub output buffer's hard limit (32 MB): every subscriber is dropped. */
const DROP_EVERY_SUBSCRIBER = 'x'.repeat(34 * 1024 * 1024)

// The attack: drop every subscriber with one big message, let a logout happen meanwhile,
// then replay that logout's entry number and stamps with a harmless change. A mirror that let
// the message move its place in the log would skip the logout for good.
test('a replayed entry number with a harmless change does not hide a logout from a mirror', async (t) => {
  const { server, attacker } = await serverWithAttacker(t)
  // The replay reaches the mirror between its new SUBSCRIBE and its catch-up, as a flood of
  // replays gets it to: the mirror's subscribing is held until the logout is made, then until the replay is heard.
  let logoutDone!: () => void
  let replayHeard!: () => void
  const held = { logout: new Promise<void>((resolve) => { logoutDone = resolve }), replay: new Promise<void>((resolve) => { replayHeard = resolve }) }
  let armed = false
  const hostClient = server.client()
  await connected(hostClient)
  const host = new Proxy(hostClient, {
    get (target, property) {
      if (property === 'duplicate') {
        return () => {
          const connection = target.duplicate()
          connection.on('message', (_channel: string, message: string) => { if (message.includes('replayed-harmless')) replayHeard() })
          const subscribe = connection.subscribe.bind(connection) as (...args: unknown[]) => Promise<unknown>
          ;(connection as unknown as { subscribe: unknown }).subscribe = async (...args: unknown[]) => {
            const holding = armed
            if (holding) await held.logout
            const reply = await subscribe(...args)
            if (holding) await held.replay
            return reply
          }
          return connection
        }
      }
      const value = Reflect.get(target, property, target)
      return typeof value === 'function' ? value.bind(target) : value
    }
  }) as unknown as RedisClient
  const mirrored = redisStore({ client: host })
  t.teardown(async () => await mirrored.close())
  const appB = await buildApp(t, { revocationStore: mirrored })
  await mirrored.ready()
  const writerClient = server.client()
  await connected(writerClient)
  const writer = redisStore({ client: writerClient, mode: 'lookup' })
  t.teardown(async () => await writer.close())
  const appA = await buildApp(t, { revocationStore: writer })
  await writer.ready()

  const token = await login(appA)
  t.equal((await appB.inject({ url: '/me', headers: bearer(token) })).statusCode, 200)

  armed = true
  const publisher = await attacker()
  await publisher.publish(CHANNEL, DROP_EVERY_SUBSCRIBER)
  const heard = await listen(await attacker())
  t.equal((await appA.inject({ method: 'POST', url: '/@logout', headers: bearer(token) })).statusCode, 204, 'logged out on A while B is unsubscribed')
  await eventually(async () => heard.length > 0)
  const [bucket, entry, stamp, previous, , , , expiresAt] = heard[0] as unknown[]
  t.equal(bucket, bucketOf(decodePayload(token).sid), 'the attacker heard the logout\'s entry')
  logoutDone()
  const replay = JSON.stringify([bucket, entry, stamp, previous, 's', 'replayed-harmless', 'x', expiresAt])
  const listened = { yes: false }
  void held.replay.then(() => { listened.yes = true })
  // A flood of replays, until the mirror's new subscription hears one.
  for (let sent = 0; sent < 500 && !listened.yes; sent++) {
    await publisher.publish(CHANNEL, replay)
    await sleep(10)
  }
  t.ok(listened.yes, 'the mirror heard the replay')
  const status = async (): Promise<number> => (await appB.inject({ url: '/me', headers: bearer(token) })).statusCode
  await eventually(async () => await status() === 401, 3000).catch(() => {})
  t.equal(await status(), 401, 'the logged-out token is refused on the mirror after the replay')
})

test('a forged message with a garbage value and a huge expiry does not refuse a valid user', async (t) => {
  const { server, admin, attacker } = await serverWithAttacker(t)
  const client = server.client()
  await connected(client)
  const store = redisStore({ client })
  t.teardown(async () => await store.close())
  const app = await buildApp(t, { revocationStore: store })
  await store.ready()
  const token = await login(app)
  const { sub, sid } = decodePayload(token) as { sub: string, sid: string }
  const publisher = await attacker()
  const forever = Number.MAX_SAFE_INTEGER
  // The user logged out everywhere for good (a cut-off no token passes), and the session ended, each with an expiry of never.
  await publisher.publish(CHANNEL, JSON.stringify([bucketOf(sub), '0-1', '1', '', 'u', sub, 'garbage', forever]))
  await publisher.publish(CHANNEL, JSON.stringify([bucketOf(sid), '0-1', '1', '', 's', sid, 'x', forever]))
  // A real logout in each of those buckets, heard after the forged messages: the mirror has read those logs since.
  const markers = [...sameBucket(1, 'marker-u', bucketOf(sub)), ...sameBucket(1, 'marker-s', bucketOf(sid))]
  for (const marker of markers) await endBy(admin, marker)
  await eventually(async () => markers.every((marker) => ended(store, marker)))
  t.equal((await app.inject({ url: '/me', headers: bearer(token) })).statusCode, 200, 'the valid token is still good')
})

test('a burst of forged messages does not make a mirror load everything again', async (t) => {
  const { server, admin, attacker } = await serverWithAttacker(t)
  const client = server.client()
  await connected(client)
  const mirror = startRedisMirror(client, 'jwt-session:', CHANNEL, 10_000, { overflowRetryMs: 60_000, checkMs: 50 })
  t.teardown(async () => { await mirror.close() })
  await mirror.ready()
  const heard = await listen(await attacker())
  const [first, marker] = sameBucket(2, 'real') as [string, string]
  await endBy(admin, first)
  await eventually(async () => heard.length > 0 && ended(mirror, first))
  const [bucket, entry, stamp] = heard[0] as [number, string, string]
  const seq = Number(entry.slice(2))
  const scans = await commandCalls(admin, 'scan')
  const publisher = await attacker()
  const burst = publisher.pipeline()
  // Entries that continue the mirror's place, chained to its stamp, that no log holds; and noise.
  for (let k = 1; k <= 200; k++) {
    burst.publish(CHANNEL, JSON.stringify([bucket, `0-${seq + k}`, `forged-${k}`, k === 1 ? stamp : `forged-${k - 1}`, 's', `forged-${k}`, 'x', 4_000_000_000]))
    burst.publish(CHANNEL, `noise ${k}`)
    burst.publish(CHANNEL, JSON.stringify([bucket, `0-${seq + 1_000_000 + k}`, 'x', 'y', 'u', 'someone', '1', 1]))
  }
  await burst.exec()
  await endBy(admin, marker)
  await eventually(async () => ended(mirror, marker))
  // Several checks of every log since (16 reads each), or a full load.
  const reads = await commandCalls(admin, 'xrange')
  await eventually(async () => await commandCalls(admin, 'xrange') >= reads + 64 || await commandCalls(admin, 'scan') > scans)
  t.equal(await commandCalls(admin, 'scan'), scans, 'no full load')
  t.equal(mirror.session('forged-1'), undefined, 'nothing forged was applied')
  t.ok(ended(mirror, marker), 'and the copy is trusted, current')
})
