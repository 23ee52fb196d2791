import { test } from 'tap'
import { Cluster, type Redis } from 'ioredis'
import { redisStore, type RedisClient, type RedisStore, type SessionRecord } from '../lib/index'
import { END_SCRIPT } from '../lib/stores/redis/scripts'
import { LOG_LENGTH, bucketOf, storeKeys } from '../lib/stores/redis/keys'
import { openSubscription } from '../lib/stores/redis/subscription'
import { RedisClusterServers } from './redis-cluster'
import { RedisServer, connected, eventually, freePort } from './redis-server'

type Teardown = { teardown (fn: () => unknown): void }
const now = (): number => Math.floor(Date.now() / 1000)
const keys = storeKeys('jwt-session:')

/** The mirror's answer for `sid`, or 'distrusted' while it answers 503. */
function answer (store: RedisStore, sid: string): SessionRecord | undefined | 'distrusted' {
  try {
    const answer = store.session(sid)
    // Waiting for a read of the log a message asked for: asked again by the caller's poll.
    if (answer instanceof Promise) {
      answer.catch(() => {})
      return 'distrusted'
    }
    return answer as SessionRecord | undefined
  } catch {
    return 'distrusted'
  }
}

/** A mirror store on `client`, ready, closed after the test. */
async function mirrorOn (t: Teardown, client: RedisClient): Promise<RedisStore> {
  const store = redisStore({ client })
  t.teardown(async () => await store.close())
  await store.ready()
  return store
}

/**
 * On the node `admin` is connected to, in one transaction: kills every pub/sub connection
 * (the mirror's subscription) and ends session `sid`, whose key that node holds. Nothing can
 * subscribe again between the two, so the mirror never receives that message: only noticing
 * the blip, and loading again, can tell it of the logout.
 */
async function logoutDuringBlip (admin: Redis, sid: string): Promise<void> {
  const replies = await admin.multi()
    .call('CLIENT', 'KILL', 'TYPE', 'pubsub')
    .eval(END_SCRIPT, 2, keys.session(sid), keys.log(bucketOf(sid)), 'jwt-session:revoked', bucketOf(sid), LOG_LENGTH, sid, now() + 60, 'x')
    .exec()
  for (const [error] of replies ?? []) if (error !== null) throw error
}

test('a plain Redis: a logout made while the subscription was cut (CLIENT KILL TYPE pubsub) is honoured', async (t) => {
  const server = await RedisServer.start(t)
  const client = server.client()
  await connected(client)
  const store = await mirrorOn(t, client)
  t.equal(answer(store, 'blip'), undefined)
  await logoutDuringBlip(await server.admin(), 'blip')
  const took = await eventually(async () => (answer(store, 'blip') as SessionRecord | undefined)?.ended === true)
  t.comment(`honoured ${took} ms after the kill`)
  t.pass('the catch-up after the reconnect saw the logout')
})

test('a Redis Cluster: a logout made while the subscription was cut is honoured, wherever the subscription goes next', async (t) => {
  const cluster = await RedisClusterServers.start(t)
  const client = await cluster.ready()
  const store = await mirrorOn(t, client)
  const admins = await Promise.all(cluster.nodes.map(async (node) => await node.admin()))
  for (let round = 0; round < 3; round++) {
    // The master the mirror is subscribed on now, and a session whose key it holds.
    let subscribed: Redis | undefined
    await eventually(async () => {
      for (const admin of admins) if (String(await admin.call('CLIENT', 'LIST', 'TYPE', 'pubsub')).includes('cmd=')) subscribed = admin
      return subscribed !== undefined
    })
    const node = subscribed as Redis
    let sid = ''
    for (let index = 0; sid === ''; index++) {
      if (await node.get(keys.session(`blip-${round}-${index}`)).then(() => true, () => false)) sid = `blip-${round}-${index}`
    }
    t.equal(answer(store, sid), undefined)
    await logoutDuringBlip(node, sid)
    const took = await eventually(async () => (answer(store, sid) as SessionRecord | undefined)?.ended === true)
    t.comment(`round ${round}: honoured ${took} ms after the kill`)
  }
  t.pass('every logout made during a blip was honoured')
})

test('a Redis Cluster: a mirror created before its client found the masters subscribes once it has', async (t) => {
  const cluster = await RedisClusterServers.start(t)
  // Not awaited: the client has not discovered a single node when the store starts.
  const client = cluster.client()
  const store = await mirrorOn(t, client)
  const other = redisStore({ client: await cluster.ready(), mode: 'lookup' })
  t.teardown(async () => await other.close())
  await other.end('late-start', now() + 60)
  await eventually(async () => (answer(store, 'late-start') as SessionRecord | undefined)?.ended === true)
  t.pass('a logout made after the start is seen')
})

test('a Redis Cluster that knows no master yet: the subscription is refused (the mirror tries again), never made on nothing', async (t) => {
  // A real Cluster client with nothing to reach: it knows no master, as at start before discovery.
  const client = new Cluster([{ host: '127.0.0.1', port: await freePort() }], { lazyConnect: true, clusterRetryStrategy: () => null })
  t.teardown(() => { client.disconnect() })
  const subscription = openSubscription(client as unknown as RedisClient, 'jwt-session:revoked', { message: () => {}, ready: () => {}, close: () => {} })
  t.teardown(() => { subscription.close() })
  await t.rejects(subscription.subscribe(), /the revocation mirror has no connection to subscribe on/)
})
