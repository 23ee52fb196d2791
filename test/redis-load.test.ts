import { test } from 'tap'
import type { RedisClient } from '../lib/index'
import { loadKeys, type Kind } from '../lib/stores/redis/load'
import { BUCKETS, storeKeys } from '../lib/stores/redis/keys'
import { MINIMAL_ACL } from './redis-acl'
import { RedisClusterServers } from './redis-cluster'
import { RedisServer, connected } from './redis-server'

const always = (): boolean => true
type Seen = Array<[Kind, string, string, number]>

/** Loads everything under `prefix` and answers what was loaded, sorted. */
async function loadAll (client: RedisClient, prefix = 'jwt-session:'): Promise<Seen> {
  const seen: Seen = []
  await loadKeys(client, prefix, (...value) => seen.push(value), always)
  return seen.sort(byKey)
}

/**
 * Checks the loaded values against `expected`: the same keys and values, and expiries within
 * a second (a load reads each key's remaining lifetime and adds this process' clock to it).
 */
function sameLoaded (t: { same (a: unknown, b: unknown): unknown, ok (v: unknown, message: string): unknown }, seen: Seen, expected: Seen): void {
  t.same(seen.map(([kind, id, value]) => [kind, id, value]), expected.map(([kind, id, value]) => [kind, id, value]))
  t.ok(seen.every((value, index) => Math.abs(value[3] - (expected[index] as [Kind, string, string, number])[3]) <= 1), 'each expiry, give or take the second a lifetime rounds to')
}

/** Orders loaded values by kind then id, code unit by code unit. */
const byKey = (a: [Kind, string, ...unknown[]], b: [Kind, string, ...unknown[]]): number => {
  const [left, right] = [`${a[0]}${a[1]}`, `${b[0]}${b[1]}`]
  return left < right ? -1 : left > right ? 1 : 0
}

test('a mirror load reads sessions and users in one pass, with their expiries, and nothing else under the prefix', async (t) => {
  const server = await RedisServer.start(t)
  const redis = await server.admin()
  const keys = storeKeys('jwt-session:')
  await redis.set(keys.session('ended'), 'x', 'EXAT', 4_000_000_000)
  await redis.set(keys.session('live'), '3:1700000000000000', 'EXAT', 4_000_100_000)
  await redis.set(keys.subject('alice'), '1700000000000000', 'EXAT', 4_000_200_000)
  // A user name that looks like a tag keeps it: only the bucket's tag is cut off.
  await redis.set(keys.subject('{7}bob'), '5', 'EXAT', 4_000_300_000)
  // Not revocations: the throttle's counters and the buckets' logs are never loaded.
  await redis.set('jwt-session:attempts:alice', '3', 'EX', 60)
  await redis.xadd(keys.log(3), '*', 'change', 'x')
  // Another application's keys, under another prefix.
  await redis.set('other:s:{1}carol', 'x')
  await redis.set('other:u:{1}carol', '5')
  sameLoaded(t, await loadAll(redis), [
    ['s', 'ended', 'x', 4_000_000_000],
    ['s', 'live', '3:1700000000000000', 4_000_100_000],
    ['u', 'alice', '1700000000000000', 4_000_200_000],
    ['u', '{7}bob', '5', 4_000_300_000]
  ])
})

test('a mirror load keeps a key with no expiry forever, reads past a key of another type and a key with no bucket tag (no lookup would read it)', async (t) => {
  const server = await RedisServer.start(t)
  const redis = await server.admin()
  await redis.set('jwt-session:s:{2}forever', 'x')
  await redis.lpush('jwt-session:s:{2}a-list', 'x')
  await redis.hset('jwt-session:u:{4}a-hash', 'field', 'x')
  await redis.set('jwt-session:u:untagged', '9', 'EXAT', 4_000_000_000)
  await redis.set('jwt-session:u:{x}not-a-bucket', '9', 'EXAT', 4_000_000_000)
  await redis.set(storeKeys('jwt-session:').subject('lone-\uD800'), '7', 'EXAT', 4_000_000_000)
  // An id kept encoded is answered decoded.
  sameLoaded(t, await loadAll(redis), [
    ['s', 'forever', 'x', Number.MAX_SAFE_INTEGER],
    ['u', 'lone-\uD800', '7', 4_000_000_000]
  ])
})

test('a mirror load takes the prefix literally, glob characters included', async (t) => {
  const server = await RedisServer.start(t)
  const redis = await server.admin()
  await redis.set('app[1]*:s:{0}mine', 'x')
  await redis.set('app1x:s:{0}not-mine', 'x')
  await redis.set('app[1]*:s:{0}é', 'x')
  t.same(await loadAll(redis, 'app[1]*:'), [['s', 'mine', 'x', Number.MAX_SAFE_INTEGER], ['s', 'é', 'x', Number.MAX_SAFE_INTEGER]])
  // A prefix of several bytes per character: the id is cut where the prefix ends.
  await redis.set('sessions·é:u:{1}dave', '5')
  t.same(await loadAll(redis, 'sessions·é:'), [['u', 'dave', '5', Number.MAX_SAFE_INTEGER]])
})

test('a mirror load walks every SCAN step, and stops once it is no longer wanted', async (t) => {
  const server = await RedisServer.start(t)
  const redis = await server.admin()
  const keys = storeKeys('jwt-session:')
  const count = 5000
  const pipeline = redis.pipeline()
  for (let index = 0; index < count; index++) pipeline.set(index % 2 === 0 ? keys.session(`sid-${index}`) : keys.subject(`sub-${index}`), 'x')
  await pipeline.exec()
  const all = await loadAll(redis)
  t.equal(all.length, count)
  t.equal(new Set(all.map(([kind, id]) => `${kind}${id}`)).size, count, 'each key once')

  let steps = 0
  let loaded = 0
  await loadKeys(redis, 'jwt-session:', () => { loaded++ }, () => ++steps <= 1)
  t.equal(steps, 2, 'the load stopped at the first step answered once it was no longer wanted')
  t.ok(loaded > 0 && loaded < count, `one step loaded (${loaded} keys), not all of them`)
})

test('a mirror load that cannot read a key rejects: a copy with a key missing would let its tokens in', async (t) => {
  const server = await RedisServer.start(t)
  const redis = await server.admin()
  await redis.set('jwt-session:s:{1}readable', 'x')
  await redis.set('jwt-session:s:{2}hidden', 'x')
  // SCAN lists every key whatever the user's key patterns; GET of a key it may only write is refused.
  await redis.call('ACL', 'SETUSER', 'loader', 'on', '>loader-password', '+@all', '~jwt-session:s:{1}readable', '%W~jwt-session:s:{2}hidden')
  const client = server.client({ username: 'loader', password: 'loader-password' })
  await connected(client)
  // Redis 7.0 words it "can't access at least one of the keys", later ones "NOPERM".
  await t.rejects(loadKeys(client, 'jwt-session:', () => {}, always), /NOPERM|can't access/)
})

test("the README's minimal ACL is enough for a mirror load: its script's SCAN, GET and PTTL are in it", async (t) => {
  const server = await RedisServer.start(t)
  const redis = await server.admin()
  await redis.set('jwt-session:s:{1}sid', 'x', 'EXAT', 4_000_000_000)
  await redis.set('jwt-session:u:{2}sub', '5', 'EXAT', 4_000_000_000)
  await redis.call('ACL', 'SETUSER', 'app', 'on', '>app-password', ...MINIMAL_ACL)
  const client = server.client({ username: 'app', password: 'app-password' })
  await connected(client)
  sameLoaded(t, await loadAll(client), [['s', 'sid', 'x', 4_000_000_000], ['u', 'sub', '5', 4_000_000_000]])
  // And without SCAN, the load is refused rather than answered empty.
  await redis.call('ACL', 'SETUSER', 'app', '-scan')
  await t.rejects(loadAll(client), /NOPERM|can't run this command/)
})

test('a mirror load fails when the copy refuses a value, and leaves no step unheard behind it', async (t) => {
  const server = await RedisServer.start(t)
  const redis = await server.admin()
  const pipeline = redis.pipeline()
  for (let index = 0; index < 3000; index++) pipeline.set(`jwt-session:s:{${index % BUCKETS}}sid-${index}`, 'x')
  await pipeline.exec()
  await t.rejects(loadKeys(redis, 'jwt-session:', () => { throw new Error('the copy is full') }, always), /the copy is full/)
  // The step asked for ahead is still answered on the connection, and the next load is whole.
  t.equal((await loadAll(redis)).length, 3000)
})

test('a Cluster client that knows no master yet loads nothing, and says so rather than answer an empty copy', async (t) => {
  // A fake that reaches this branch only: a real Cluster client lists its masters once it found them.
  const client = { nodes: () => [] } as unknown as RedisClient
  await t.rejects(loadKeys(client, 'jwt-session:', () => {}, always), /no Redis node is reachable yet/)
})

test('a mirror load on a 3-master Redis Cluster reads the keys of every master, of every bucket, in one pass', async (t) => {
  const servers = await RedisClusterServers.start(t)
  const cluster = await servers.ready()
  const keys = storeKeys('jwt-session:')
  const expected: Seen = []
  for (let index = 0; index < 300; index++) {
    const [kind, id] = index % 3 === 0 ? ['u', `sub-${index}`] as const : ['s', `sid-${index}`] as const
    await cluster.set(kind === 's' ? keys.session(id) : keys.subject(id), kind === 's' ? 'x' : '5', 'EXAT', 4_000_000_000 + index)
    expected.push([kind, id, kind === 's' ? 'x' : '5', 4_000_000_000 + index])
  }
  await cluster.set('jwt-session:attempts:sub-0', '1')
  const masters = cluster.nodes('master')
  t.equal(masters.length, 3)
  for (const master of masters) t.ok(await master.dbsize() > 0, 'each master holds some of the keys')
  sameLoaded(t, await loadAll(cluster), expected.sort(byKey))
})
