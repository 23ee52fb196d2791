import { test } from 'tap'
import { redisStore, type RedisStore, type SessionRecord } from '../lib/index'
import { bearer, buildApp, decodePayload, fakeClock, issue, login, renew, renewChain } from './helpers'
import { RedisServer, connected, eventually } from './redis-server'
import { startRedisMirror } from '../lib/stores/redis/mirror'

const MODES = ['mirror', 'lookup'] as const
const now = (): number => Math.floor(Date.now() / 1000)

/** A store on `server` with its own client, ready, closed after the test. */
async function storeOn (t: { teardown (fn: () => unknown): void }, server: RedisServer, options: Partial<Parameters<typeof redisStore>[0]> = {}): Promise<RedisStore> {
  const client = server.client()
  await connected(client)
  const store = redisStore({ client, ...options })
  t.teardown(async () => await store.close())
  await store.ready()
  return store
}

const US = (): number => Date.now() * 1000

/** A mirror's answer for a session: synchronous, unlike lookup mode's. */
function mirrored (store: RedisStore, sid: string): SessionRecord | undefined {
  return store.session(sid) as SessionRecord | undefined
}

for (const mode of MODES) {
  test(`${mode}: renew advances a session once per generation, atomically, with an absolute expiry, the later one kept`, async (t) => {
    const server = await RedisServer.start(t)
    const redis = await server.admin()
    const store = await storeOn(t, server, { mode })
    const expiresAt = now() + 60
    const at = US()
    t.has(await store.renew('s1', 0, at, expiresAt), { generation: 1, renewedAt: at, ended: false })
    t.has(await store.renew('s1', 0, at + 5, expiresAt), { generation: 1, renewedAt: at, ended: false }, 'a second renewal of generation 0 changes nothing')
    t.equal(await redis.get('jwt-session:s:s1'), `1:${at}`, 'microseconds kept exactly, as digits')
    t.equal(await redis.call('EXPIRETIME', 'jwt-session:s:s1'), expiresAt)
    t.has(await store.renew('s1', 1, at + 9, expiresAt - 30), { generation: 2, renewedAt: at + 9, ended: false })
    t.equal(await redis.call('EXPIRETIME', 'jwt-session:s:s1'), expiresAt, 'the later expiry is kept')
    t.has(await store.renew('s1', 0, at + 10, expiresAt), { generation: 2, renewedAt: at + 9, ended: false }, 'a generation past the one given is left alone')
    t.has(await store.session('s1'), { generation: 2, renewedAt: at + 9, ended: false })
    t.equal(await store.session('s2'), undefined)
    await store.end('s1', expiresAt - 50)
    t.equal((await store.session('s1'))?.ended, true)
    t.equal((await store.renew('s1', 2, at + 20, expiresAt)).ended, true, 'no renewal after the end')
    t.equal(await redis.call('EXPIRETIME', 'jwt-session:s:s1'), expiresAt, 'an end keeps the later expiry too')
    await store.endSubject('u1', at, expiresAt)
    await store.endSubject('u1', at - 1, expiresAt - 10)
    t.equal(await store.subject('u1'), at, 'the larger cut-off is kept')
    await store.endSubject('u1', at + 1, expiresAt - 10)
    t.equal(await store.subject('u1'), at + 1)
    t.equal(await store.subject('u2'), undefined)
    t.same((await redis.keys('*')).sort(), ['jwt-session:s:s1', 'jwt-session:u:u1'])
  })

  test(`${mode}: every key expires, and the key count is back to its baseline once its tokens are gone`, async (t) => {
    const server = await RedisServer.start(t)
    const redis = await server.admin()
    const store = await storeOn(t, server, { mode })
    const soon = now() + 2
    await store.renew('x', 0, US(), soon)
    await store.end('y', soon)
    await store.endSubject('z', US(), soon)
    t.equal(await redis.dbsize(), 3)
    for (const key of ['jwt-session:s:x', 'jwt-session:s:y', 'jwt-session:u:z']) t.equal(await redis.call('EXPIRETIME', key), soon, `${key} expires`)
    await eventually(async () => await redis.dbsize() === 0)
    t.pass('no key is left')
  })

  test(`${mode}: 2,000 renewals of one session leave one key`, async (t) => {
    const server = await RedisServer.start(t)
    const redis = await server.admin()
    const store = await storeOn(t, server, { mode })
    const app = await buildApp(t, { revocationStore: store })
    const token = await renewChain(app, await login(app), 2000)
    t.equal(decodePayload(token).gen, 2000)
    const keys = (await redis.keys('*')).filter((key) => !key.includes('attempts:'))
    t.ok(keys.length <= 3, `${keys.length} keys`)
    t.same(keys, [`jwt-session:s:${decodePayload(token).sid as string}`])
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
    await redis.set('jwt-session:u:u-alice', 'garbage', 'EX', 600)
    const app = await buildApp(t, { revocationStore: await storeOn(t, server, { mode }) })
    t.equal((await app.inject({ url: '/me', headers: bearer(await login(app)) })).json().code, 'FST_JWT_SESSION_REVOKED_TOKEN')
    const bob = await login(app, 'bob')
    t.equal((await app.inject({ url: '/me', headers: bearer(bob) })).statusCode, 200)
    await redis.set(`jwt-session:s:${decodePayload(bob).sid as string}`, '1:garbage', 'EX', 600)
    // The mirror learns of a write no script published when it reloads, as after a reconnection.
    await redis.publish('jwt-session:revoked', 'not json')
    await eventually(async () => (await app.inject({ url: '/me', headers: bearer(bob) })).statusCode === 401)
    t.equal((await renew(app, bob)).json().code, 'FST_JWT_SESSION_REVOKED_TOKEN', 'a session value not ours is an ended session')
    await app.jwtAuth.revokeSubject('u-alice')
    t.equal(await redis.get('jwt-session:u:u-alice'), 'garbage', 'a cut-off not ours is kept over a real one')
  })

  test(`${mode}: a key of another type under the prefix is not ours: read past, and revoking it fails closed`, async (t) => {
    const server = await RedisServer.start(t)
    const redis = await server.admin()
    await redis.hset('jwt-session:u:u-alice', 'name', 'Alice')
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

test('a replica refusing writes (READONLY) fails logouts with 503 and keeps the token valid', async (t) => {
  const primary = await RedisServer.start(t)
  const replica = await RedisServer.start(t, { args: ['--replicaof', '127.0.0.1', String(primary.port)] })
  const app = await buildApp(t, { revocationStore: await storeOn(t, replica) })
  // Logging in counts the attempt in Redis: a replica cannot, so the login fails closed too.
  t.equal((await app.inject({ method: 'POST', url: '/@login', payload: { login: 'alice', password: 'wonderland' } })).statusCode, 503)
  const token = await issue(app)
  const response = await app.inject({ method: 'POST', url: '/@logout', headers: bearer(token) })
  t.equal(response.statusCode, 503)
  t.notMatch(response.body, /READONLY/)
  t.equal((await app.inject({ url: '/me', headers: bearer(token) })).statusCode, 200)
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
  t.same((await redis.keys('*')).sort(), ['app-one:u:u', 'user:1'])
  const glob = await storeOn(t, server, { prefix: 'a*[p]?:' })
  await redis.set('a*[p]?:s:z', 'x', 'EX', 60)
  await redis.set('aXpY:s:z', '1:1', 'EX', 60)
  await redis.publish('a*[p]?:revoked', 'not json')
  await eventually(async () => { try { return mirrored(glob, 'z')?.ended === true } catch { return false } })
  t.pass('glob characters in a prefix are matched literally')
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
})

test('redisStore refuses a client without a method the store calls, naming the method', async (t) => {
  const server = await RedisServer.start(t)
  const client = server.client()
  // The four methods a client once had to have, without the mirror's pipeline() and once().
  const partial = { eval: client.eval.bind(client), mget: client.mget.bind(client), scan: client.scan.bind(client), duplicate: client.duplicate.bind(client) }
  t.throws(() => redisStore({ client: partial as never }), /it has no pipeline\(\), once\(\)/)
})

test('mirror: a foreign message on the channel makes the mirror reload, and it keeps working; it never loads the attempts keys', async (t) => {
  const server = await RedisServer.start(t)
  const store = await storeOn(t, server)
  const publisher = await server.admin()
  await publisher.set('jwt-session:u:seen-on-reload', '5', 'EX', 60)
  await publisher.set('jwt-session:attempts:someone', '3', 'EX', 60)
  await publisher.publish('jwt-session:revoked', 'not json')
  await eventually(async () => { try { return store.subject('seen-on-reload') === 5 } catch { return false } })
  t.pass('the reload found a key that was never published')
  await publisher.publish('jwt-session:revoked', JSON.stringify(['u', 'pub', '7', now() + 60]))
  await eventually(async () => store.subject('pub') === 7)
  await publisher.publish('jwt-session:revoked', JSON.stringify(['s', 'live', '3:9', now() + 60]))
  await publisher.publish('jwt-session:revoked', JSON.stringify(['s', 'live', '2:8', now() + 60]))
  await publisher.publish('jwt-session:revoked', JSON.stringify(['u', 'pub', '6', now() + 60]))
  await publisher.publish('jwt-session:revoked', JSON.stringify(['s', 'gone', 'x', now() + 60]))
  await eventually(async () => mirrored(store, 'gone')?.ended === true)
  t.has(store.session('live'), { generation: 3, renewedAt: 9, ended: false }, 'an older generation arriving late changes nothing')
  t.equal(store.subject('pub'), 7, 'nor does a smaller cut-off')
  await publisher.publish('jwt-session:revoked', JSON.stringify(['s', 'gone', '9:9', now() + 60]))
  await publisher.publish('jwt-session:revoked', JSON.stringify(['s', 'live', 'x', now() + 60]))
  await eventually(async () => mirrored(store, 'live')?.ended === true)
  t.equal(mirrored(store, 'gone')?.ended, true, 'an end stays')
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
    await redis.set('jwt-session:u:forever', '50')
    await redis.set('jwt-session:s:forever', 'x')
    const store = await storeOn(t, server, { mode })
    t.equal(await store.subject('forever'), 50)
    t.equal((await store.session('forever'))?.ended, true)
    await store.endSubject('forever', 100, now() + 60)
    t.equal(await store.subject('forever'), 100)
    t.equal(await redis.call('EXPIRETIME', 'jwt-session:u:forever'), now() + 60)
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

test('mirror: an overflowing copy goes back to memory once a reload fits', async (t) => {
  const server = await RedisServer.start(t)
  const redis = await server.admin()
  const client = server.client()
  await connected(client)
  const mirror = startRedisMirror(client, 'jwt-session:', 'jwt-session:revoked', 2, 50)
  t.teardown(async () => await mirror.close())
  await mirror.ready()
  t.equal(mirror.overflowing(), false)
  for (const sid of ['a', 'b', 'c']) await redis.set(`jwt-session:s:${sid}`, 'x', 'EX', 60)
  mirror.apply('s', 'a', 'x', now() + 60)
  mirror.apply('s', 'b', 'x', now() + 60)
  mirror.apply('s', 'c', 'x', now() + 60)
  t.equal(mirror.overflowing(), true, 'a third entry does not fit')
  await new Promise((resolve) => setTimeout(resolve, 200))
  t.equal(mirror.overflowing(), true, 'reloads that do not fit leave it overflowing')
  await redis.del('jwt-session:s:a')
  await eventually(async () => !mirror.overflowing())
  t.equal(mirror.session('b')?.ended, true, 'answered from memory again')
  t.equal(mirror.session('a'), undefined)
  await redis.publish('jwt-session:revoked', JSON.stringify(['s', 'd', 'x', now() + 60]))
  await eventually(async () => mirror.overflowing())
  t.pass('a published entry past the capacity overflows it again')
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
    await new Promise((resolve) => setTimeout(resolve, 100))
    t.throws(() => store.session('x'), /not in sync/)
  })
}
