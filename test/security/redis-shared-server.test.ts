import { test } from 'tap'
import type { Redis } from 'ioredis'
import { redisStore, type RedisStore } from '../../lib/index'
import { bearer, buildApp, login } from '../helpers'
import { commandCalls, endBy, ended, keys, sameBucket } from '../redis-log'
import { RedisServer, connected, eventually } from '../redis-server'

/*
 * Two apps on one redis-server, each in a database of its own (`db: 0`, `db: 1`), both with
 * the default prefix: a common setup (staging and production, or two apps, on one managed
 * Redis). Keys are per database, but Redis pub/sub is not: a PUBLISH in database 1 reaches
 * the subscribers of database 0. The README promises that a prefix no other data uses is
 * enough; these tests hold the mirror to it (the channel names the database).
 */

const now = (): number => Math.floor(Date.now() / 1000)

/**
 * The server, an admin on each database, a ready mirror-mode store on database 0, and a
 * lookup-mode store on each database (another instance of each app), whose writes publish
 * wherever the store publishes.
 */
async function shared (t: { teardown (fn: () => unknown): void }): Promise<{ server: RedisServer, admin0: Redis, admin1: Redis, store: RedisStore, writer0: RedisStore, writer1: RedisStore }> {
  const server = await RedisServer.start(t)
  const admin0 = await server.admin()
  const admin1 = server.client({ db: 1, enableOfflineQueue: true })
  await connected(admin1)
  const client = server.client()
  await connected(client)
  const store = redisStore({ client })
  t.teardown(async () => await store.close())
  await store.ready()
  const writers: RedisStore[] = []
  for (const db of [0, 1]) {
    const writerClient = server.client({ db })
    await connected(writerClient)
    const writer = redisStore({ client: writerClient, mode: 'lookup' })
    t.teardown(async () => await writer.close())
    await writer.ready()
    writers.push(writer)
  }
  return { server, admin0, admin1, store, writer0: writers[0] as RedisStore, writer1: writers[1] as RedisStore }
}

/** A logout in database 0 by another instance: once the mirror has it, it has heard every message published before. */
async function marker (writer0: RedisStore, store: RedisStore): Promise<void> {
  await writer0.end('marker', now() + 600)
  await eventually(async () => ended(store, 'marker'))
}

test('a logout-all in another database does not log out this database\'s user', async (t) => {
  const { server, admin0, store, writer0 } = await shared(t)
  const app = await buildApp(t, { revocationStore: store })
  const token = await login(app)
  // The other app, in database 1, same prefix, same user ids (the same directory of users).
  const otherClient = server.client({ db: 1 })
  await connected(otherClient)
  const otherStore = redisStore({ client: otherClient, mode: 'lookup' })
  t.teardown(async () => await otherStore.close())
  const other = await buildApp(t, { revocationStore: otherStore })
  await otherStore.ready()
  const otherToken = await login(other)
  t.equal((await other.inject({ method: 'POST', url: '/@logout', headers: bearer(otherToken), payload: { all: true } })).statusCode, 204)
  await marker(writer0, store)
  t.equal((await app.inject({ url: '/me', headers: bearer(token) })).statusCode, 200, 'the token of database 0 is still good')
  t.equal(await admin0.exists(keys.subject('u-alice')), 0, 'nothing in database 0 ended it')
})

test('writes in another database never make the mirror distrust itself and catch up', async (t) => {
  const { admin0, admin1, store, writer0, writer1 } = await shared(t)
  const before = await commandCalls(admin0, 'subscribe')
  // Database 1's log of bucket 3 runs ahead: its next message skips numbers the mirror holds.
  const [first, second, heard] = sameBucket(3, 'other') as [string, string, string]
  await endBy(admin1, first, 'unheard')
  await endBy(admin1, second, 'unheard')
  await writer1.end(heard, now() + 600)
  await marker(writer0, store)
  t.equal(await commandCalls(admin0, 'subscribe'), before, 'no resync (each is a window of 503 on every request)')
  t.equal(store.session(heard), undefined, 'nor does database 0\'s copy hold database 1\'s logout')
})

test('writes in another database never make the mirror load everything again', async (t) => {
  const { admin0, store, writer0, writer1 } = await shared(t)
  const scans = await commandCalls(admin0, 'scan')
  const reads = await commandCalls(admin0, 'xrange')
  // Database 0's log of bucket 3 is empty; database 1's entries 1 and 2 look like its continuation.
  for (const sid of sameBucket(2, 'other')) await writer1.end(sid, now() + 600)
  await marker(writer0, store)
  // Four checks of the logs (16 XRANGEs each), or a full load that ran since.
  await eventually(async () => await commandCalls(admin0, 'xrange') >= reads + 64 || await commandCalls(admin0, 'scan') > scans)
  t.equal(await commandCalls(admin0, 'scan'), scans, 'no full load (with 1,000,000 entries, 25 s of 503)')
})
