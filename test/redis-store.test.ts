import { test } from 'tap'
import FakeTimers from '@sinonjs/fake-timers'
import { Cluster, Redis } from 'ioredis'
import { redisStore, type RedisStore, type SessionRecord } from '../lib/index'
import { bearer, buildApp, decodePayload, fakeClock, issue, login, renew } from './helpers'
import { RedisServer, connected, eventually, freePort } from './redis-server'
import { startRedisMirror } from '../lib/stores/redis/mirror'
import { checkRedisClient } from '../lib/stores/redis/client'
import { bucketOf, storeKeys } from '../lib/stores/redis/keys'
import { storeOn } from './redis-stores'

const MODES = ['mirror', 'lookup'] as const
const now = (): number => Math.floor(Date.now() / 1000)
const keyOf = storeKeys('jwt-session:')
/** The store's session and user keys, without the logs, the counters and the app's claim of the prefix. */
const dataKeys = (keys: string[]): string[] => keys.filter((key) => !key.includes(':log:') && !key.includes('attempts:') && key !== 'jwt-session:app').sort()

const US = (): number => Date.now() * 1000

/** A mirror's answer for a session: synchronous, unlike lookup mode's. */
function mirrored (store: RedisStore, sid: string): SessionRecord | undefined {
  return store.session(sid) as SessionRecord | undefined
}

for (const mode of MODES) {
  test(`${mode}: renew advances a session once per generation, atomically, with an expiry, the later one kept`, async (t) => {
    const server = await RedisServer.start(t)
    const redis = await server.admin()
    const store = await storeOn(t, server, { mode })
    const expiresAt = now() + 60
    const at = US()
    t.has(await store.renew('s1', 0, at, expiresAt), { generation: 1, renewedAt: at, ended: false })
    t.has(await store.renew('s1', 0, at + 5, expiresAt), { generation: 1, renewedAt: at, ended: false }, 'a second renewal of generation 0 changes nothing')
    t.equal(await redis.get(keyOf.session('s1')), `1:${at}`, 'microseconds kept exactly, as digits')
    t.ok(near(await expiryOf(redis, keyOf.session('s1')), expiresAt))
    t.has(await store.renew('s1', 1, at + 9, expiresAt - 30), { generation: 2, renewedAt: at + 9, ended: false })
    t.ok(near(await expiryOf(redis, keyOf.session('s1')), expiresAt), 'the later expiry is kept')
    t.has(await store.renew('s1', 0, at + 10, expiresAt), { generation: 2, renewedAt: at + 9, ended: false }, 'a generation past the one given is left alone')
    t.has(await store.session('s1'), { generation: 2, renewedAt: at + 9, ended: false })
    t.equal(await store.session('s2'), undefined)
    await store.end('s1', expiresAt - 50)
    t.equal((await store.session('s1'))?.ended, true)
    t.equal((await store.renew('s1', 2, at + 20, expiresAt)).ended, true, 'no renewal after the end')
    t.ok(near(await expiryOf(redis, keyOf.session('s1')), expiresAt), 'an end keeps the later expiry too')
    await store.endSubject('u1', at, expiresAt)
    await store.endSubject('u1', at - 1, expiresAt - 10)
    t.equal(await store.subject('u1'), at + 1, 'a smaller cut-off records one µs past the one held')
    await store.endSubject('u1', at + 5, expiresAt - 10)
    t.equal(await store.subject('u1'), at + 5, 'a larger one is taken as it is')
    t.equal(await store.subject('u2'), undefined)
    t.same(dataKeys(await redis.keys('*')), [keyOf.session('s1'), keyOf.subject('u1')].sort())
  })

  test(`${mode}: every key expires, and the key count is back to its baseline once its tokens are gone`, async (t) => {
    const server = await RedisServer.start(t)
    const redis = await server.admin()
    const store = await storeOn(t, server, { mode })
    const soon = now() + 2
    await store.renew('x', 0, US(), soon)
    await store.end('y', soon)
    await store.endSubject('z', US(), soon)
    const keys = await redis.keys('*')
    t.same(dataKeys(keys), [keyOf.session('x'), keyOf.session('y'), keyOf.subject('z')].sort())
    for (const key of keys) t.ok(near(await expiryOf(redis, key), soon), `${key} expires, the logs too`)
    await eventually(async () => await redis.dbsize() === 0)
    t.pass('no key is left')
  })

  test(`${mode}: 2,000 renewals of one session leave one key`, async (t) => {
    const server = await RedisServer.start(t)
    const redis = await server.admin()
    const store = await storeOn(t, server, { mode })
    const clock = fakeClock(t)
    const app = await buildApp(t, { revocationStore: store })
    // A session's newest token is renewed at most once a second: the clock moves a second per
    // renewal, faster than the mirror's checks (real timers) confirm it, so the mirror distrusts
    // itself now and then and a renewal answers 503 while it resyncs; it is tried again.
    let token = await login(app)
    for (let index = 0; index < 2000; index++) {
      clock.tick(1_001)
      let response = await renew(app, token)
      while (response.statusCode === 503) {
        await new Promise((resolve) => setTimeout(resolve, 10))
        response = await renew(app, token)
      }
      if (response.statusCode !== 200) throw new Error(`renewal ${index}: ${response.statusCode} ${response.body}`)
      token = response.json().token
    }
    t.equal(decodePayload(token).gen, 2000)
    const keys = dataKeys(await redis.keys('*'))
    t.same(keys, [keyOf.session(decodePayload(token).sid as string), keyOf.registry('u-alice')].sort(), 'one session key, and the user\'s registry')
    const log = await redis.keys('jwt-session:log:*')
    t.equal(log.length, 1, 'and one log')
    t.ok(await redis.xlen(log[0] as string) <= 2100, 'a log that stays short of its cap')
  })

  test(`${mode}: a replay after the grace on one instance ends the session on a second instance sharing Redis; onReuse once`, async (t) => {
    const server = await RedisServer.start(t)
    const events: unknown[] = []
    const options = { renewGrace: 1, onReuse: (event: unknown) => { events.push(event) } }
    const first = await buildApp(t, { ...options, revocationStore: await storeOn(t, server, { mode }) })
    const second = await buildApp(t, { ...options, revocationStore: await storeOn(t, server, { mode }) })
    const stolen = await login(first)
    const tabs = await Promise.all([first, second, first, second].map(async (app) => await renew(app, stolen)))
    t.same(tabs.map((r) => r.statusCode), [200, 200, 200, 200], 'concurrent renewals on two instances all succeed within the grace')
    const victim = (tabs[0] as { json (): { token: string } }).json().token
    const newest = (await renew(second, victim)).json().token
    await eventually(async () => (await first.inject({ url: '/me', headers: bearer(stolen) })).statusCode === 401)
    t.equal((await renew(first, stolen)).json().code, 'FST_JWT_SESSION_REVOKED_TOKEN', 'a replay after the grace')
    for (const app of [first, second]) {
      await eventually(async () => (await app.inject({ url: '/me', headers: bearer(newest) })).statusCode === 401)
      t.equal((await renew(app, victim)).json().code, 'FST_JWT_SESSION_REVOKED_TOKEN')
    }
    t.equal(events.length, 1, 'onReuse called once')
  })

  test(`${mode}: two instances on one Redis share logouts`, async (t) => {
    const server = await RedisServer.start(t)
    const first = await buildApp(t, { revocationStore: await storeOn(t, server, { mode }) })
    const second = await buildApp(t, { revocationStore: await storeOn(t, server, { mode }) })
    const token = await login(first)
    t.equal((await second.inject({ url: '/me', headers: bearer(token) })).statusCode, 200)
    t.equal((await first.inject({ method: 'POST', url: '/@logout', headers: bearer(token) })).statusCode, 204)
    t.equal((await first.inject({ url: '/me', headers: bearer(token) })).statusCode, 401, 'at once on the instance that revoked')
    const took = await eventually(async () => (await second.inject({ url: '/me', headers: bearer(token) })).statusCode === 401)
    t.comment(`refused by the other instance after ${took} ms`)
    t.equal((await second.inject({ url: '/me', headers: bearer(token) })).json().code, 'FST_JWT_SESSION_REVOKED_TOKEN')
  })

  test(`${mode}: a logout-all then a login in the same millisecond: the new token works on both instances, the older ones do not`, async (t) => {
    const server = await RedisServer.start(t)
    const first = await buildApp(t, { revocationStore: await storeOn(t, server, { mode }) })
    const second = await buildApp(t, { revocationStore: await storeOn(t, server, { mode }) })
    fakeClock(t)
    const old = await login(first)
    t.equal((await first.inject({ method: 'POST', url: '/@logout', headers: bearer(old), payload: { all: true } })).statusCode, 204)
    const fresh = await login(first)
    await eventually(async () => (await second.inject({ url: '/me', headers: bearer(old) })).statusCode === 401)
    for (const app of [first, second]) t.equal((await app.inject({ url: '/me', headers: bearer(fresh) })).statusCode, 200)
  })

  test(`${mode}: a value under the prefix that this store did not write refuses every token its key names`, async (t) => {
    const server = await RedisServer.start(t)
    const redis = await server.admin()
    await redis.set(keyOf.subject('u-alice'), 'garbage', 'EX', 600)
    const app = await buildApp(t, { revocationStore: await storeOn(t, server, { mode }) })
    t.equal((await app.inject({ url: '/me', headers: bearer(await login(app)) })).json().code, 'FST_JWT_SESSION_REVOKED_TOKEN')
    const bob = await login(app, 'bob')
    t.equal((await app.inject({ url: '/me', headers: bearer(bob) })).statusCode, 200)
    await redis.set(keyOf.session(decodePayload(bob).sid as string), '1:garbage', 'EX', 600)
    // A write no script made is in no log: a mirror learns of it when it loads.
    const fresh = await buildApp(t, { revocationStore: await storeOn(t, server, { mode }) })
    t.equal((await fresh.inject({ url: '/me', headers: bearer(bob) })).statusCode, 401)
    t.equal((await renew(fresh, bob)).json().code, 'FST_JWT_SESSION_REVOKED_TOKEN', 'a session value not ours is an ended session')
    await app.jwtAuth.revokeSubject('u-alice')
    t.equal(await redis.get(keyOf.subject('u-alice')), 'garbage', 'a cut-off not ours is kept over a real one')
  })

  test(`${mode}: a key of another type under the prefix is not ours: read past, and revoking it fails closed`, async (t) => {
    const server = await RedisServer.start(t)
    const redis = await server.admin()
    await redis.hset(keyOf.subject('u-alice'), 'name', 'Alice')
    const app = await buildApp(t, { revocationStore: await storeOn(t, server, { mode }) })
    const token = await login(app)
    t.equal((await app.inject({ url: '/me', headers: bearer(token) })).statusCode, 200, 'MGET answers nil for it, and the mirror skips it')
    const response = await app.inject({ method: 'POST', url: '/@logout', headers: bearer(token), payload: { all: true } })
    t.equal(response.statusCode, 503)
    t.equal(response.json().code, 'FST_JWT_SESSION_STORE_UNAVAILABLE')
  })

  test(`${mode}: a client that is not connected yet works once it connects`, async (t) => {
    const server = await RedisServer.start(t)
    const client = server.client({ lazyConnect: true })
    const store = redisStore({ client, mode })
    t.teardown(async () => await store.close())
    const app = await buildApp(t, { revocationStore: store })
    const token = await issue(app)
    await eventually(async () => (await app.inject({ method: 'POST', url: '/@logout', headers: bearer(token) })).statusCode === 204)
    await store.ready()
    t.equal((await app.inject({ url: '/me', headers: bearer(token) })).statusCode, 401)
  })
}

test('a master demoted to a replica (READONLY) fails logouts with 503 and keeps the token valid', async (t) => {
  const primary = await RedisServer.start(t)
  const other = await RedisServer.start(t)
  const app = await buildApp(t, { revocationStore: await storeOn(t, primary) })
  const token = await login(app)
  await (await primary.admin()).call('REPLICAOF', '127.0.0.1', String(other.port))
  // Logging in counts the attempt in Redis: a replica cannot, so the login fails closed too.
  t.equal((await app.inject({ method: 'POST', url: '/@login', payload: { login: 'alice', password: 'wonderland' } })).statusCode, 503)
  const response = await app.inject({ method: 'POST', url: '/@logout', headers: bearer(token) })
  t.equal(response.statusCode, 503)
  t.notMatch(response.body, /READONLY/)
  await eventually(async () => (await app.inject({ url: '/me', headers: bearer(token) })).statusCode === 200)
  t.pass('the token stays valid')
})

test('Redis out of memory (OOM) fails logouts with 503 and keeps the token valid', async (t) => {
  const server = await RedisServer.start(t)
  const app = await buildApp(t, { revocationStore: await storeOn(t, server) })
  const token = await login(app)
  await (await server.admin()).config('SET', 'maxmemory', '1')
  const response = await app.inject({ method: 'POST', url: '/@logout', headers: bearer(token) })
  t.equal(response.statusCode, 503)
  t.notMatch(response.body, /OOM/)
  t.equal((await app.inject({ url: '/me', headers: bearer(token) })).statusCode, 200)
})

test('a prefix keeps the store out of other data, and two prefixes do not see each other', async (t) => {
  const server = await RedisServer.start(t)
  const redis = await server.admin()
  await redis.set('user:1', 'someone else\'s data')
  const one = await storeOn(t, server, { prefix: 'app-one:' })
  const two = await storeOn(t, server, { prefix: 'app-two:' })
  await one.endSubject('u', 10, now() + 60)
  t.equal(await one.subject('u'), 10)
  t.equal(await two.subject('u'), undefined)
  t.same((await redis.keys('*')).sort(), [storeKeys('app-one:').subject('u'), storeKeys('app-one:').log(bucketOf('u')), 'user:1'].sort())
  await redis.set(storeKeys('a*[p]?:').session('z'), 'x', 'EX', 60)
  await redis.set(storeKeys('aXpY:').session('y'), '1:1', 'EX', 60)
  const glob = await storeOn(t, server, { prefix: 'a*[p]?:' })
  t.equal(mirrored(glob, 'z')?.ended, true, 'its own key loaded')
  t.equal(mirrored(glob, 'y'), undefined, 'glob characters in a prefix are matched literally')
})

test('redisStore refuses bad options, naming them', async (t) => {
  const server = await RedisServer.start(t)
  const client = server.client()
  t.throws(() => redisStore(undefined as never), /redisStore needs an options object/)
  t.throws(() => redisStore({} as never), /redisStore client must be an ioredis client/)
  t.throws(() => redisStore({ client: {} as never }), /client must be an ioredis client/)
  t.throws(() => redisStore({ client, prefix: '' }), /prefix must be a non-empty string/)
  t.throws(() => redisStore({ client, mode: 'cache' as never }), /mode must be 'mirror' or 'lookup'/)
  t.throws(() => redisStore({ client, maxEntries: 0 }), /redisStore maxEntries must be a positive whole number/, 'names redisStore, not memoryStore')
  t.throws(() => redisStore({ client, maxEntires: 10 } as never), /redisStore maxEntires is not a known redisStore option/)
  const prefixed = server.client({ lazyConnect: true, keyPrefix: 'app:' })
  t.throws(() => redisStore({ client: prefixed }), /cannot use a client with ioredis' keyPrefix/)
  // A Cluster client reading replicas (scaleReads) would read a session key from a replica
  // that has not received, or whose link is cut and never will receive, an acknowledged logout.
  for (const options of [{ keyPrefix: 'app:' }, { redisOptions: { keyPrefix: 'app:' } }, { scaleReads: 'slave' as const }, { scaleReads: 'all' as const }]) {
    const cluster = new Cluster([{ host: '127.0.0.1', port: server.port }], { lazyConnect: true, ...options })
    t.throws(() => redisStore({ client: cluster }), /keyPrefix|scaleReads: 'master'/, `a Cluster client with ${JSON.stringify(options)}`)
  }
  t.doesNotThrow(() => redisStore({ client: new Cluster([{ host: '127.0.0.1', port: server.port }], { lazyConnect: true, scaleReads: 'master' }) }).close())
})

test('redisStore refuses a client without a method the store calls, naming the method', async (t) => {
  const server = await RedisServer.start(t)
  const client = server.client()
  // Methods a client once had to have, without once(), off() and call().
  const partial = { eval: client.eval.bind(client), mget: client.mget.bind(client), duplicate: client.duplicate.bind(client) }
  t.throws(() => redisStore({ client: partial as never }), /it has no once\(\), off\(\), call\(\)/)
  // Every method, and no ioredis options at all (a client of another make): accepted as it is.
  const bare = { ...partial, once: client.once.bind(client), off: client.off.bind(client), call: client.call.bind(client) }
  t.equal(checkRedisClient(bare), bare)
})

/** A message as the scripts publish it, at no place in its log (`0-0`): applied, and the mirror's places left alone. */
/** When `key` expires, in seconds of this process' clock (Redis keeps a lifetime, not a time). */
async function expiryOf (redis: Redis, key: string): Promise<number> {
  return Math.ceil((Date.now() + Number(await redis.pttl(key))) / 1000)
}

/** Whether two expiries are the same second, give or take the one a relative lifetime rounds to. */
const near = (actual: number, expected: number): boolean => Math.abs(actual - expected) <= 1

const message = (kind: 's' | 'u', id: string, value: string): string => JSON.stringify([bucketOf(id), '0-0', '', '', kind, id, value, now() + 60])

test('mirror: a load never takes the attempts keys nor the logs for entries', async (t) => {
  const server = await RedisServer.start(t)
  const redis = await server.admin()
  const writer = await storeOn(t, server, { mode: 'lookup' })
  await writer.endSubject('seen-on-load', 5, now() + 60)
  await redis.set('jwt-session:attempts:someone', '3', 'EX', 60)
  const store = await storeOn(t, server, { maxEntries: 1 })
  t.equal(store.subject('seen-on-load'), 5, 'one entry held in memory: neither an attempts key nor a log took a place')
})

test('mirror: a message is no change; changes apply in any order and any number of times', async (t) => {
  const server = await RedisServer.start(t)
  const client = server.client()
  await connected(client)
  const mirror = startRedisMirror(client, 'jwt-session:', 'jwt-session:revoked', 100, { overflowRetryMs: 60_000, checkMs: 3_600_000 })
  t.teardown(async () => await mirror.close())
  await mirror.ready()
  const publisher = await server.admin()
  for (const text of ['not json', JSON.stringify([99, '0-1', '', '', 's', 'x', 'x', now() + 60]), message('u', 'pub', '7'), message('s', 'gone', 'x')]) {
    await publisher.publish('jwt-session:revoked', text)
  }
  const writer = await storeOn(t, server, { mode: 'lookup' })
  await writer.end('marker', now() + 60)
  await eventually(async () => (await mirror.session('marker'))?.ended === true)
  t.equal(await mirror.subject('pub'), undefined, 'a message\'s change is not applied: only the logs are read')
  t.equal(await mirror.session('gone'), undefined)
  mirror.apply('u', 'pub', '7', now() + 60)
  mirror.apply('s', 'live', '3:9', now() + 60)
  mirror.apply('s', 'live', '2:8', now() + 60)
  mirror.apply('u', 'pub', '6', now() + 60)
  mirror.apply('s', 'gone', 'x', now() + 60)
  t.has(await mirror.session('live'), { generation: 3, renewedAt: 9, ended: false }, 'an older generation arriving late changes nothing')
  t.equal(await mirror.subject('pub'), 7, 'nor does a smaller cut-off')
  mirror.apply('s', 'gone', '9:9', now() + 60)
  mirror.apply('s', 'live', 'x', now() + 60)
  t.equal((await mirror.session('live'))?.ended, true)
  t.equal((await mirror.session('gone'))?.ended, true, 'an end stays')
})

test('mirror: closing the store, or quitting the host client, distrusts the mirror (503), never opens it', async (t) => {
  const server = await RedisServer.start(t)
  const app = await buildApp(t, { revocationStore: await storeOn(t, server) })
  const token = await login(app)
  const client = server.client()
  await connected(client)
  const store = redisStore({ client })
  await store.ready()
  t.equal(store.session('x'), undefined)
  await client.quit()
  await eventually(async () => { try { store.session('x'); return false } catch { return true } })
  t.pass('the mirror closed with the host client')
  await store.close()
  const closed = await storeOn(t, server)
  await closed.close()
  t.throws(() => closed.session('x'), /not in sync/)
  t.throws(() => closed.subject('x'), /not in sync/)
  t.equal((await app.inject({ url: '/me', headers: bearer(token) })).statusCode, 200)
})

for (const mode of MODES) {
  test(`${mode}: a key someone stored under the prefix with no expiry still counts, and a write gives it one`, async (t) => {
    const server = await RedisServer.start(t)
    const redis = await server.admin()
    await redis.set(keyOf.subject('forever'), '50')
    await redis.set(keyOf.session('forever'), 'x')
    const store = await storeOn(t, server, { mode })
    t.equal(await store.subject('forever'), 50)
    t.equal((await store.session('forever'))?.ended, true)
    await store.endSubject('forever', 100, now() + 60)
    t.equal(await store.subject('forever'), 100)
    t.ok(near(await expiryOf(redis, keyOf.subject('forever')), now() + 60))
  })
}

test('mirror: past maxEntries the copy answers from Redis (401/200 right), never a 503 wall, from a message or from the load', async (t) => {
  const server = await RedisServer.start(t)
  const small = await storeOn(t, server, { maxEntries: 2 })
  const app = await buildApp(t, { revocationStore: small })
  const tokens = await Promise.all(['alice', 'alice', 'alice', 'alice', 'bob'].map(async (name) => await login(app, name)))
  const [kept, ...gone] = tokens as [string, ...string[]]
  const bob = gone.pop() as string
  for (const token of gone) t.equal((await app.inject({ method: 'POST', url: '/@logout', headers: bearer(token) })).statusCode, 204)
  t.type(small.session('probe'), Promise, 'past its capacity, the store reads Redis (a promise), not the copy')
  for (const token of gone) t.equal((await app.inject({ url: '/me', headers: bearer(token) })).statusCode, 401, 'a logged-out token is refused')
  t.equal((await app.inject({ url: '/me', headers: bearer(kept) })).statusCode, 200, 'a live one is let in')
  t.equal((await app.inject({ method: 'POST', url: '/@logout', headers: bearer(bob), payload: { all: true } })).statusCode, 204)
  t.equal((await app.inject({ url: '/me', headers: bearer(bob) })).statusCode, 401, 'a logout-all is honoured')
  t.equal((await renew(app, kept)).statusCode, 200, 'a renewal works')

  // A mirror that meets the overflow while loading answers from Redis too, once ready.
  const late = await storeOn(t, server, { maxEntries: 2 })
  const lateApp = await buildApp(t, { revocationStore: late })
  for (const token of [...gone, bob]) t.equal((await lateApp.inject({ url: '/me', headers: bearer(token) })).statusCode, 401)
})

test('mirror: an end heard again with a later expiry keeps the later one', async (t) => {
  const server = await RedisServer.start(t)
  const client = server.client()
  await connected(client)
  const mirror = startRedisMirror(client, 'jwt-session:', 'jwt-session:revoked', 10, { overflowRetryMs: 60_000, checkMs: 3_600_000 })
  t.teardown(async () => await mirror.close())
  await mirror.ready()
  const clock = FakeTimers.install({ toFake: ['Date'] })
  t.teardown(() => { clock.uninstall() })
  mirror.apply('s', 'sid', 'x', now() + 10)
  mirror.apply('s', 'sid', 'x', now() + 100)
  clock.tick(50_000)
  t.equal((mirror.session('sid') as SessionRecord | undefined)?.ended, true, 'still ended past the first expiry')
})

test('mirror: an overflowing copy goes back to memory once a reload fits', async (t) => {
  const server = await RedisServer.start(t)
  const redis = await server.admin()
  const client = server.client()
  await connected(client)
  const mirror = startRedisMirror(client, 'jwt-session:', 'jwt-session:revoked', 2, { overflowRetryMs: 50, checkMs: 1000 })
  t.teardown(async () => await mirror.close())
  await mirror.ready()
  t.equal(mirror.overflowing(), false)
  for (const sid of ['a', 'b', 'c']) await redis.set(keyOf.session(sid), 'x', 'EX', 60)
  mirror.apply('s', 'a', 'x', now() + 60)
  mirror.apply('s', 'b', 'x', now() + 60)
  mirror.apply('s', 'c', 'x', now() + 60)
  t.equal(mirror.overflowing(), true, 'a third entry does not fit')
  await new Promise((resolve) => setTimeout(resolve, 200))
  t.equal(mirror.overflowing(), true, 'reloads that do not fit leave it overflowing')
  await redis.del(keyOf.session('a'))
  await eventually(async () => !mirror.overflowing())
  t.equal((await mirror.session('b'))?.ended, true, 'answered from memory again')
  t.equal(await mirror.session('a'), undefined)
  const writer = await storeOn(t, server, { mode: 'lookup' })
  await writer.end('d', now() + 60)
  await eventually(async () => mirror.overflowing())
  t.pass('an entry read from the log past the capacity overflows it again')
})

for (const outcome of ['answers', 'fails'] as const) {
  test(`mirror: a load still under way when the store closes is not trusted, whether its SCAN then ${outcome}`, async (t) => {
    const server = await RedisServer.start(t)
    const client = server.client()
    await connected(client)
    let scanning: () => void = () => {}
    const scanStarted = new Promise<void>((resolve) => { scanning = resolve })
    let release: () => void = () => {}
    const gate = new Promise<void>((resolve) => { release = resolve })
    // Holds the load's first SCAN step (a script) until the store is closed: the only way to reach that race on demand.
    const slow = new Proxy(client, {
      get (target, property) {
        if (property === 'eval') {
          return async (...args: unknown[]) => {
            if (String(args[0]).includes("redis.call('SCAN'")) {
              scanning()
              await gate
              if (outcome === 'fails') throw new Error('connection lost')
            }
            return await (target.eval as (...a: unknown[]) => unknown)(...args)
          }
        }
        const value = Reflect.get(target, property, target)
        return typeof value === 'function' ? value.bind(target) : value
      }
    })
    const store = redisStore({ client: slow })
    await scanStarted
    await store.close()
    release()
    await t.rejects(store.ready(), /the revocation mirror was closed before it was ready/, 'ready() settles')
    await new Promise((resolve) => setTimeout(resolve, 100))
    t.throws(() => store.session('x'), /not in sync/)
  })
}

test('a store closed before Redis could be reached: ready() rejects rather than wait for ever', async (t) => {
  const client = new Redis({ host: '127.0.0.1', port: await freePort(), lazyConnect: true, enableOfflineQueue: false, retryStrategy: () => 50 })
  client.on('error', () => {})
  t.teardown(() => { client.disconnect() })
  const store = redisStore({ client })
  const ready = store.ready()
  await store.close()
  await t.rejects(ready, /the Redis store was closed before Redis could be checked/)
})
