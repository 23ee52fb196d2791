import { test } from 'tap'
import { redisStore, type RedisStore } from '../lib/index'
import { bearer, buildApp, issue, login } from './helpers'
import { RedisServer, connected, eventually } from './redis-server'

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

for (const mode of MODES) {
  test(`${mode}: revoke is atomic per key, keeps the larger cut-off, and sets an absolute expiry`, async (t) => {
    const server = await RedisServer.start(t)
    const redis = await server.admin()
    const store = await storeOn(t, server, { mode })
    const expiresAt = now() + 60
    t.equal(await store.revoke('jti:a', 100, expiresAt), true)
    t.equal(await store.revoke('jti:a', 100, expiresAt), false, 'a second renewal of the same token loses')
    t.equal(await store.revoke('jti:a', 90, expiresAt), false)
    t.equal(await store.cutoff(['jti:a', 'sid:b']), 100)
    t.equal(await redis.get('jwt-session:jti:a'), '100')
    t.equal(await redis.call('EXPIRETIME', 'jwt-session:jti:a'), expiresAt)
    t.equal(await store.revoke('jti:a', 120, expiresAt - 30), true, 'a larger cut-off wins')
    t.equal(await redis.call('EXPIRETIME', 'jwt-session:jti:a'), expiresAt, 'and the later expiry is kept')
    t.equal(await store.cutoff(['sid:b']), undefined)
  })

  test(`${mode}: nothing is written for a token that has expired already, and every key expires`, async (t) => {
    const server = await RedisServer.start(t)
    const redis = await server.admin()
    const store = await storeOn(t, server, { mode })
    t.equal(await store.revoke('jti:old', 1, now() - 1), true)
    t.equal(await redis.dbsize(), 0, 'no key written')
    const soon = now() + 2
    await store.revoke('jti:x', 1, soon)
    await store.revoke('sid:y', 1, soon)
    t.equal(await redis.dbsize(), 2)
    for (const key of ['jwt-session:jti:x', 'jwt-session:sid:y']) t.equal(await redis.call('EXPIRETIME', key), soon, `${key} expires`)
    await eventually(async () => await redis.dbsize() === 0)
    t.pass('the key count is back to its baseline once the tokens have expired')
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

  test(`${mode}: concurrent renewals of one token on two instances: exactly one succeeds`, async (t) => {
    const server = await RedisServer.start(t)
    const apps = [
      await buildApp(t, { revocationStore: await storeOn(t, server, { mode }) }),
      await buildApp(t, { revocationStore: await storeOn(t, server, { mode }) })
    ]
    const token = await login(apps[0] as Awaited<ReturnType<typeof buildApp>>)
    const responses = await Promise.all(Array.from({ length: 10 }, async (_, index) =>
      await apps[index % 2]?.inject({ method: 'POST', url: '/@login-renew', headers: bearer(token) })))
    t.equal(responses.filter((response) => response?.statusCode === 200).length, 1)
    t.equal(responses.filter((response) => response?.statusCode === 401).length, 9)
  })

  test(`${mode}: a value under the prefix that is no cut-off revokes every token its key names`, async (t) => {
    const server = await RedisServer.start(t)
    const redis = await server.admin()
    await redis.set('jwt-session:sub:u-alice', 'garbage', 'EX', 600)
    const app = await buildApp(t, { revocationStore: await storeOn(t, server, { mode }) })
    t.equal((await app.inject({ url: '/me', headers: bearer(await login(app)) })).json().code, 'FST_JWT_SESSION_REVOKED_TOKEN')
    t.equal((await app.inject({ url: '/me', headers: bearer(await login(app, 'bob')) })).statusCode, 200)
  })

  test(`${mode}: a key of another type under the prefix is not ours: read past, and revoking it fails closed`, async (t) => {
    const server = await RedisServer.start(t)
    const redis = await server.admin()
    await redis.hset('jwt-session:sub:u-alice', 'name', 'Alice')
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
  await one.revoke('sub:u', 10, now() + 60)
  t.equal(await one.cutoff(['sub:u']), 10)
  t.equal(await two.cutoff(['sub:u']), undefined)
  t.same((await redis.keys('*')).sort(), ['app-one:sub:u', 'user:1'])
  const glob = await storeOn(t, server, { prefix: 'a*[p]?:' })
  await glob.revoke('jti:z', 1, now() + 60)
  t.equal(await glob.cutoff(['jti:z']), 1, 'glob characters in a prefix are matched literally')
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

test('mirror: a foreign message on the channel makes the mirror reload, and it keeps working', async (t) => {
  const server = await RedisServer.start(t)
  const store = await storeOn(t, server)
  const publisher = await server.admin()
  await publisher.set('jwt-session:jti:seen-on-reload', '5', 'EX', 60)
  await publisher.publish('jwt-session:revoked', 'not json')
  await eventually(async () => { try { return store.cutoff(['jti:seen-on-reload']) === 5 } catch { return false } })
  t.pass('the reload found a key that was never published')
  await publisher.publish('jwt-session:revoked', JSON.stringify(['jti:pub', 7, now() + 60]))
  await eventually(async () => store.cutoff(['jti:pub']) === 7)
  t.pass('well-formed messages are applied')
})

test('mirror: closing the store, or quitting the host client, distrusts the mirror (503), never opens it', async (t) => {
  const server = await RedisServer.start(t)
  const app = await buildApp(t, { revocationStore: await storeOn(t, server) })
  const token = await login(app)
  const client = server.client()
  await connected(client)
  const store = redisStore({ client })
  await store.ready()
  t.equal(store.cutoff(['jti:x']), undefined)
  await client.quit()
  await eventually(async () => { try { store.cutoff(['jti:x']); return false } catch { return true } })
  t.pass('the mirror closed with the host client')
  await store.close()
  const closed = await storeOn(t, server)
  await closed.close()
  t.throws(() => closed.cutoff(['jti:x']), /not in sync/)
  t.equal((await app.inject({ url: '/me', headers: bearer(token) })).statusCode, 200)
})

for (const mode of MODES) {
  test(`${mode}: a key someone stored under the prefix with no expiry still counts, and the largest cut-off wins`, async (t) => {
    const server = await RedisServer.start(t)
    const redis = await server.admin()
    await redis.set('jwt-session:sid:forever', '50')
    const store = await storeOn(t, server, { mode })
    await store.revoke('jti:a', 100, now() + 60)
    t.equal(await store.cutoff(['sid:forever']), 50)
    t.equal(await store.cutoff(['jti:a', 'sid:forever']), 100)
    t.equal(await store.cutoff(['sid:forever', 'jti:a']), 100)
  })
}

test('mirror: a copy too full to hold a new revocation is distrusted (503), never silently short', async (t) => {
  const server = await RedisServer.start(t)
  const store = await storeOn(t, server, { maxEntries: 1 })
  const other = await storeOn(t, server)
  await other.revoke('jti:one', 1, now() + 60)
  await other.revoke('jti:two', 1, now() + 60)
  await eventually(async () => { try { store.cutoff(['jti:one']); return false } catch { return true } })
  t.throws(() => store.cutoff(['jti:two']), /not in sync/)
})

test('mirror: a load still under way when the store closes is not trusted', async (t) => {
  const server = await RedisServer.start(t)
  const client = server.client()
  await connected(client)
  let scanning: () => void = () => {}
  const scanStarted = new Promise<void>((resolve) => { scanning = resolve })
  let release: () => void = () => {}
  const gate = new Promise<void>((resolve) => { release = resolve })
  // Holds the first SCAN until the store is closed: the only way to reach that race on demand.
  const slow = new Proxy(client, {
    get (target, property) {
      if (property === 'scan') return async (...args: unknown[]) => { scanning(); await gate; return await (target.scan as (...a: unknown[]) => unknown)(...args) }
      const value = Reflect.get(target, property, target)
      return typeof value === 'function' ? value.bind(target) : value
    }
  })
  const store = redisStore({ client: slow })
  await scanStarted
  await store.close()
  release()
  await new Promise((resolve) => setTimeout(resolve, 100))
  t.throws(() => store.cutoff(['jti:x']), /not in sync/)
})
