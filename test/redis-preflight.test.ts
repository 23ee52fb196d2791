import { test } from 'tap'
import { redisStore } from '../lib/index'
import { checkInfo } from '../lib/stores/redis/preflight'
import { bearer, buildApp, login } from './helpers'
import { MINIMAL_ACL } from './redis-acl'
import { RedisServer, connected } from './redis-server'

/** A user `app` on `server` with `rules`, and a connected client logged in as that user. */
async function clientAs (server: RedisServer, rules: string[]): Promise<ReturnType<RedisServer['client']>> {
  await (await server.admin()).call('ACL', 'SETUSER', 'app', 'on', '>app-password', ...rules)
  const client = server.client({ username: 'app', password: 'app-password' })
  await connected(client)
  return client
}

test('a Redis with maxmemory-policy noeviction is accepted, in both modes', async (t) => {
  const server = await RedisServer.start(t, { args: ['--maxmemory-policy', 'noeviction'] })
  for (const mode of ['mirror', 'lookup'] as const) {
    const client = server.client()
    await connected(client)
    const store = redisStore({ client, mode })
    t.teardown(async () => await store.close())
    await store.ready()
    const app = await buildApp(t, { revocationStore: store })
    const token = await login(app)
    t.equal((await app.inject({ method: 'POST', url: '/@logout', headers: bearer(token) })).statusCode, 204, `${mode}: logout works`)
    t.equal((await app.inject({ url: '/me', headers: bearer(token) })).statusCode, 401)
  }
})

test('a Redis that can evict keys (volatile-lru) is refused at registration, naming the policy, and the store fails closed', async (t) => {
  const server = await RedisServer.start(t, { args: ['--maxmemory-policy', 'volatile-lru'] })
  const client = server.client()
  await connected(client)
  const store = redisStore({ client, mode: 'lookup' })
  t.teardown(async () => await store.close())
  const refusal = /redisStore needs maxmemory-policy noeviction; this Redis has volatile-lru/
  await t.rejects(store.ready(), refusal, 'store.ready() rejects')
  await t.rejects(buildApp(t, { revocationStore: store }), refusal, 'and so does the registration')
  await t.rejects(async () => await store.session('x'), refusal, 'a lookup is refused, never answered')
  await t.rejects(async () => await store.end('x', Math.floor(Date.now() / 1000) + 60), refusal, 'so is a revocation')
})

test('the minimal ACL of the README is enough, with minReplicas too', async (t) => {
  const server = await RedisServer.start(t)
  const client = await clientAs(server, MINIMAL_ACL)
  const store = redisStore({ client, minReplicas: 0 })
  t.teardown(async () => await store.close())
  const app = await buildApp(t, { revocationStore: store, renewGrace: 0 })
  await store.ready()
  const token = await login(app)
  t.equal((await app.inject({ method: 'POST', url: '/@login-renew', headers: bearer(token) })).statusCode, 200)
  t.equal((await app.inject({ url: '/me', headers: bearer(token) })).statusCode, 401, 'the renewed-away token is refused (no grace)')
  const other = await login(app, 'bob')
  t.equal((await app.inject({ method: 'POST', url: '/@logout', headers: bearer(other) })).statusCode, 204)
  t.equal((await app.inject({ url: '/me', headers: bearer(other) })).statusCode, 401, 'the logged-out token is refused')
  const waiting = redisStore({ client: await clientAs(server, MINIMAL_ACL), minReplicas: 1 })
  t.teardown(async () => await waiting.close())
  await t.resolves(waiting.ready(), 'WAIT is in the ACL')
})

test('an ACL user that may not publish is refused at start, naming the command and channel', async (t) => {
  const server = await RedisServer.start(t)
  const client = await clientAs(server, [...MINIMAL_ACL, '-publish'])
  const store = redisStore({ client })
  t.teardown(async () => await store.close())
  await t.rejects(store.ready(), /the Redis user of redisStore may not run PUBLISH jwt-session:revoked; grant them/)
})

test("an ACL user without the store's channel is refused at start", async (t) => {
  const server = await RedisServer.start(t)
  const client = await clientAs(server, [...MINIMAL_ACL, 'resetchannels', '&other'])
  const store = redisStore({ client })
  t.teardown(async () => await store.close())
  await t.rejects(store.ready(), /may not run PUBLISH jwt-session:revoked, SUBSCRIBE jwt-session:revoked;/)
})

test('an ACL user without the keys or commands the store uses is refused at start, with WAIT for minReplicas', async (t) => {
  const server = await RedisServer.start(t)
  const client = await clientAs(server, [...MINIMAL_ACL.filter((rule) => rule !== '+wait'), 'resetkeys', '~jwt-session:other:*', '-scan'])
  const store = redisStore({ client, minReplicas: 1 })
  t.teardown(async () => await store.close())
  await t.rejects(store.ready(), /may not run GET jwt-session:s:, SET jwt-session:s:,.* SCAN 0, WAIT 0;/)
})

test('a Redis whose EVAL is renamed away is refused at start', async (t) => {
  const server = await RedisServer.start(t, { args: ['--rename-command', 'EVAL', ''] })
  const client = server.client()
  await connected(client)
  const store = redisStore({ client })
  t.teardown(async () => await store.close())
  await t.rejects(store.ready(), /Redis refuses scripts \(EVAL\) to redisStore: ERR unknown command 'eval'$/i)
})

test('an ACL user that may not run scripts, or INFO, is refused at start', async (t) => {
  const server = await RedisServer.start(t)
  const noEval = redisStore({ client: await clientAs(server, [...MINIMAL_ACL, '-eval']) })
  t.teardown(async () => await noEval.close())
  await t.rejects(noEval.ready(), /Redis refuses scripts \(EVAL\) to redisStore: NOPERM/)
  // ioredis' ready check sends INFO too: a client without it never becomes ready, so the check is reached through a fresh user.
  const admin = await server.admin()
  await admin.call('ACL', 'SETUSER', 'noinfo', 'on', '>pw', ...MINIMAL_ACL, '-info')
  const client = server.client({ username: 'noinfo', password: 'pw', enableReadyCheck: false })
  await connected(client)
  const noInfo = redisStore({ client })
  t.teardown(async () => await noInfo.close())
  await t.rejects(noInfo.ready(), /Redis refuses INFO to redisStore: NOPERM/)
})

test('a Redis older than 7.0 is refused at start', async (t) => {
  const server = await RedisServer.start(t)
  const client = server.client()
  await connected(client)
  // No Redis 6 here: the client answers INFO as one would, the only way to reach this branch.
  const old = new Proxy(client, {
    get (target, property) {
      if (property === 'call') return async () => 'redis_version:6.2.14\r\nmaxmemory_policy:noeviction\r\n'
      const value = Reflect.get(target, property, target)
      return typeof value === 'function' ? value.bind(target) : value
    }
  })
  const store = redisStore({ client: old, mode: 'lookup' })
  t.teardown(async () => await store.close())
  await t.rejects(store.ready(), /redisStore needs Redis 7.0 or later; this one is 6.2.14/)
})

test('INFO answers are read field by field', async (t) => {
  t.doesNotThrow(() => checkInfo('# Server\r\nredis_version:7.0.15\r\n# Memory\r\nmaxmemory_policy:noeviction\r\n'))
  t.doesNotThrow(() => checkInfo('redis_version:8.2.1\nmaxmemory_policy:noeviction\n'))
  t.throws(() => checkInfo('redis_version:7.0.15\n'), /this Redis has unknown/)
  t.throws(() => checkInfo('maxmemory_policy:noeviction\n'), /this one is unknown/)
  t.throws(() => checkInfo('redis_version:6.9.0\nmaxmemory_policy:noeviction\n'), /this one is 6.9.0/)
  t.throws(() => checkInfo('redis_version:7.0.0\nmaxmemory_policy:allkeys-lru\n'), /this Redis has allkeys-lru/)
})

test('a store is not trusted before Redis is checked', async (t) => {
  const server = await RedisServer.start(t)
  const client = server.client()
  await connected(client)
  const store = redisStore({ client, mode: 'lookup' })
  t.teardown(async () => await store.close())
  await t.rejects(async () => await store.session('x'), /Redis has not been checked yet/)
  await store.ready()
  t.equal(await store.session('x'), undefined)
})

test('a Redis still loading its data is asked again, not refused', async (t) => {
  const server = await RedisServer.start(t)
  const client = server.client()
  await connected(client)
  let loading = 2
  // Answers INFO as a Redis loading its AOF does: the only way to reach this branch on demand.
  const starting = new Proxy(client, {
    get (target, property) {
      if (property === 'call' && loading > 0) {
        return async () => {
          loading--
          throw Object.assign(new Error('LOADING Redis is loading the dataset in memory'), { name: 'ReplyError' })
        }
      }
      const value = Reflect.get(target, property, target)
      return typeof value === 'function' ? value.bind(target) : value
    }
  })
  const store = redisStore({ client: starting, mode: 'lookup' })
  t.teardown(async () => await store.close())
  await store.ready()
  t.equal(loading, 0, 'asked twice while loading')
  t.equal(await store.session('x'), undefined, 'then passed')
})
