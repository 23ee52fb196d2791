import { test } from 'tap'
import { redisStore } from '../lib/index'
import { bearer, buildApp, login } from './helpers'
import { RedisServer, connected, eventually } from './redis-server'
import { replicaOnline, startReplicated } from './redis-cluster'
import { storeKeys } from '../lib/stores/redis/keys'

const now = (): number => Math.floor(Date.now() / 1000)

for (const mode of ['mirror', 'lookup'] as const) {
  test(`${mode}: with minReplicas 1, a logout is acknowledged while the replica holds it, 503 once the replica is gone, 204 again when it is back`, async (t) => {
    const { master, replica } = await startReplicated(t)
    const client = master.client()
    await connected(client)
    const store = redisStore({ client, mode, minReplicas: 1, replicaTimeout: 300 })
    t.teardown(async () => await store.close())
    const app = await buildApp(t, { revocationStore: store })
    await store.ready()

    const token = await login(app)
    t.equal((await app.inject({ method: 'POST', url: '/@logout', headers: bearer(token) })).statusCode, 204)
    const onReplica = await replica.admin()
    t.ok((await onReplica.keys('jwt-session:s:*')).length === 1, 'the replica held the revocation when the logout answered')

    await replica.stop('SIGKILL')
    const [unacknowledged, renewing] = [await login(app, 'bob'), await login(app)]
    const logout = await app.inject({ method: 'POST', url: '/@logout', headers: bearer(unacknowledged) })
    t.equal(logout.statusCode, 503, 'no replica acknowledged the revocation: the logout is not acknowledged either')
    t.equal(logout.json().code, 'FST_JWT_SESSION_STORE_UNAVAILABLE')
    t.notMatch(logout.body, /replicas acknowledged/, 'the reason stays out of the answer')
    t.equal((await app.inject({ method: 'POST', url: '/@login-renew', headers: bearer(renewing) })).statusCode, 503, 'a renewal cannot retire its token either')

    await replica.run()
    await replicaOnline(await master.admin())
    const retried = await login(app, 'bob')
    t.equal((await app.inject({ method: 'POST', url: '/@logout', headers: bearer(retried) })).statusCode, 204, 'the retried logout is acknowledged once a replica holds it')
    t.equal((await app.inject({ url: '/me', headers: bearer(retried) })).statusCode, 401)
  })
}

test('minReplicas: the writes wait on a connection of their own, so a lagging replica never holds up lookups', async (t) => {
  const { master, replica } = await startReplicated(t)
  // WAIT's timeout stays below the client's commandTimeout, as the README advises.
  const client = master.client({ lazyConnect: true, enableOfflineQueue: true, commandTimeout: 5000 })
  const store = redisStore({ client, mode: 'lookup', minReplicas: 1, replicaTimeout: 1500 })
  t.teardown(async () => await store.close())
  await store.ready()
  await replica.stop('SIGKILL')
  let waiting = true
  const revoking = Promise.resolve(store.end('slow', now() + 60))
  revoking.finally(() => { waiting = false }).catch(() => {})
  // The host's client answers while the revocation is still waiting for a replica.
  t.equal(await store.session('other'), undefined)
  t.equal(await client.ping(), 'PONG')
  t.ok(waiting, 'the lookup did not queue behind WAIT')
  await t.rejects(async () => await revoking, /0 of 1 replicas acknowledged the write within 1500 ms/)
})

test('minReplicas: a writer connection that ioredis gives up is replaced at the next write', async (t) => {
  const { master } = await startReplicated(t)
  const admin = await master.admin()
  // No reconnection at all: a drop ends the writer's connection for good.
  const client = master.client({ retryStrategy: () => null })
  await connected(client)
  const store = redisStore({ client, mode: 'lookup', minReplicas: 1 })
  t.teardown(async () => await store.close())
  await store.ready()
  await store.end('before', now() + 60)
  const writer = /id=(\d+) [^\n]*cmd=wait/.exec(String(await admin.call('CLIENT', 'LIST', 'TYPE', 'normal')))?.[1] as string
  await admin.call('CLIENT', 'KILL', 'ID', writer)
  await eventually(async () => await Promise.resolve(store.end('after', now() + 60)).then(() => true, () => false))
  t.equal((await store.session('after'))?.ended, true, 'the logout after the drop is acknowledged, by a new connection')
})

test('minReplicas: a script that fails, or a WAIT that is refused, fails the write', async (t) => {
  const { master } = await startReplicated(t)
  const admin = await master.admin()
  await admin.call('ACL', 'SETUSER', 'app', 'on', '>pw', '~*', '&*', '+@all')
  const client = master.client({ username: 'app', password: 'pw' })
  await connected(client)
  const store = redisStore({ client, mode: 'lookup', minReplicas: 1 })
  t.teardown(async () => await store.close())
  await store.ready()
  await admin.rpush(storeKeys('jwt-session:').session('list'), 'not a session')
  await t.rejects(async () => await store.end('list', now() + 60), /WRONGTYPE/)
  await admin.call('ACL', 'SETUSER', 'app', '-wait')
  await t.rejects(async () => await store.end('x', now() + 60), /NOPERM/)
})

test('redisStore refuses bad minReplicas and replicaTimeout, naming them', async (t) => {
  const client = (await RedisServer.start(t)).client({ lazyConnect: true })
  t.throws(() => redisStore({ client, minReplicas: -1 }), /redisStore minReplicas must be a whole number, 0 or more/)
  t.throws(() => redisStore({ client, minReplicas: 1.5 }), /redisStore minReplicas must be a whole number/)
  t.throws(() => redisStore({ client, replicaTimeout: 0 }), /redisStore replicaTimeout must be a positive whole number of milliseconds/)
})
