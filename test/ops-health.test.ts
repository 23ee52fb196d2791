import { test } from 'tap'
import diagnostics from 'node:diagnostics_channel'
import { redisStore } from '../lib/index'
import { bearer, buildApp, login } from './helpers'
import { RedisServer, connected, eventually } from './redis-server'
import { jwksServer } from './jwks-server'
import { signingKey } from './key-pairs'
import { storeHealth } from '../lib/ops/health'
import { channels, publishRefused } from '../lib/ops/channels'
import { consumerApp, issuerApp, memoryStore } from './feed-helpers'

/** The `store` channel's messages while the test runs. */
function storeEvents (t: { teardown (fn: () => unknown): void }): Array<Record<string, unknown>> {
  const heard: Array<Record<string, unknown>> = []
  const listener = (message: unknown): void => { heard.push(message as Record<string, unknown>) }
  diagnostics.subscribe('fastify-jwt-session:store', listener)
  t.teardown(() => diagnostics.unsubscribe('fastify-jwt-session:store', listener))
  return heard
}

test('the memory store and local keys: ready', async (t) => {
  const app = await buildApp(t)
  const health = app.jwtAuth.health()
  t.equal(health.ready, true)
  t.equal(health.store.state, 'ready')
  t.equal(health.keys.state, 'local')
  t.equal(health.feed.state, 'none')
  t.type(health.store.since, 'number')
})

test('no store: none, and ready', async (t) => {
  const app = await buildApp(t, { revocationStore: undefined })
  t.match(app.jwtAuth.health(), { ready: true, store: { state: 'none' } })
})

test('health() flips with a killed Redis and back; the store channel tells distrusted and trusted again', async (t) => {
  const events = storeEvents(t)
  const server = await RedisServer.start(t)
  const client = server.client()
  await connected(client)
  const store = redisStore({ client })
  t.teardown(async () => await store.close())
  const app = await buildApp(t, { revocationStore: store, storeTimeout: 500 })
  await store.ready()
  t.match(app.jwtAuth.health(), { ready: true, store: { state: 'ready' } })
  const token = await login(app)

  await server.stop('SIGKILL')
  await eventually(async () => !app.jwtAuth.health().ready)
  t.not(app.jwtAuth.health().store.state, 'ready')
  t.equal((await app.inject({ url: '/me', headers: bearer(token) })).statusCode, 503, 'unready while requests answer 503')

  await server.run()
  await eventually(async () => app.jwtAuth.health().ready)
  t.equal(app.jwtAuth.health().store.state, 'ready')
  // Each change once: t.same, not t.match, which would let a repeat through.
  t.same(events, [{ part: 'store', state: 'ready', previous: 'loading' }, { part: 'store', state: 'distrusted', previous: 'ready' }, { part: 'store', state: 'ready', previous: 'distrusted' }])
  await store.close()
  t.match(app.jwtAuth.health(), { ready: false, store: { state: 'closed' } })
})

test('a Redis store in lookup mode: unavailable before Redis was checked, then ready', async (t) => {
  const server = await RedisServer.start(t)
  const client = server.client()
  const store = redisStore({ client, mode: 'lookup' })
  t.teardown(async () => await store.close())
  t.match(store.health?.(), { state: 'unavailable' })
  await store.ready()
  t.match(store.health?.(), { state: 'ready' })
})

test('a remote JWKS: pending (unready) until fetched, then fetched; a failed refresh keeps the keys', async (t) => {
  const events = storeEvents(t)
  const issuer = await buildApp(t, { keys: [signingKey('ES256')] })
  const jwks = await jwksServer(t)
  jwks.set('error')
  const downstream = await buildApp(t, { jwks: { url: jwks.url, refetchInterval: 1, maxAge: 1 }, verifyCredentials: undefined, audience: false })
  t.match(downstream.jwtAuth.health(), { ready: false, keys: { state: 'pending' } }, 'asking starts a fetch')
  await eventually(async () => jwks.hits() > 0)
  jwks.document.keys = (await issuer.inject({ url: '/.well-known/jwks.json' })).json().keys
  jwks.set('serve')
  await eventually(async () => downstream.jwtAuth.health().ready)
  t.equal(downstream.jwtAuth.health().keys.state, 'fetched')
  jwks.set('error')
  const token = await login(issuer)
  await eventually(async () => {
    await downstream.inject({ url: '/me', headers: bearer(token) })
    return downstream.jwtAuth.health().keys.state === 'failed'
  })
  t.equal(downstream.jwtAuth.health().ready, true, 'the keys in hand still serve')
  t.match(events, [{ part: 'keys', state: 'fetched', previous: 'pending' }, { part: 'keys', state: 'failed', previous: 'fetched' }])
})

test('a follower: pending, current once the snapshot is in, stale when the issuer goes', async (t) => {
  const issuer = await issuerApp(t, memoryStore())
  const consumer = await consumerApp(t, issuer.url, 'secret')
  t.equal(issuer.app.jwtAuth.health().feed.state, 'publishing')
  await eventually(async () => consumer.jwtAuth.health().ready)
  t.equal(consumer.jwtAuth.health().feed.state, 'current')
  await issuer.app.close()
  await eventually(async () => !consumer.jwtAuth.health().ready)
  t.equal(consumer.jwtAuth.health().feed.state, 'stale')
})

test('odd answers: a store health() answering nothing, a refusal without a code', async (t) => {
  t.same(storeHealth({ health: () => undefined }), { state: 'unknown', since: 0 })
  t.same(storeHealth({ health: () => ({ state: 'ready', since: 5 }) }), { state: 'ready', since: 5 })
  const heard: unknown[] = []
  const listener = (message: unknown): void => { heard.push(message) }
  channels.refused.subscribe(listener)
  t.teardown(() => channels.refused.unsubscribe(listener))
  publishRefused(undefined)
  t.same(heard, [{ code: 'UNKNOWN', statusCode: 500 }])
})

test('a Redis store in lookup mode: ready after start, unready while Redis is killed, ready again; each change published once', async (t) => {
  const events = storeEvents(t)
  const server = await RedisServer.start(t)
  const store = redisStore({ client: server.client(), mode: 'lookup' })
  t.teardown(async () => await store.close())
  const app = await buildApp(t, { revocationStore: store, storeTimeout: 500 })
  await store.ready()
  t.match(app.jwtAuth.health(), { ready: true, store: { state: 'ready' } })
  const token = await login(app)

  // Killed by its pid, as a crash would, then started again on the same port.
  process.kill(server.pid as number, 'SIGKILL')
  await server.stop()
  await eventually(async () => !app.jwtAuth.health().ready)
  t.match(app.jwtAuth.health(), { ready: false, store: { state: 'unavailable' } })
  t.equal((await app.inject({ url: '/me', headers: bearer(token) })).statusCode, 503, 'unready while requests answer 503')

  await server.run()
  await eventually(async () => app.jwtAuth.health().ready)
  t.equal(app.jwtAuth.health().store.state, 'ready')
  t.equal((await app.inject({ url: '/me', headers: bearer(token) })).statusCode, 200, 'served again')
  t.same(events.map(({ part, state, previous }) => ({ part, state, previous })), [
    { part: 'store', state: 'ready', previous: 'unavailable' },
    { part: 'store', state: 'unavailable', previous: 'ready' },
    { part: 'store', state: 'ready', previous: 'unavailable' }
  ], 'each change once, pushed without health() being asked')
  await store.close()
  t.match(app.jwtAuth.health(), { ready: false, store: { state: 'closed' } })
  t.equal(events.at(-1)?.state, 'closed')
})

test('a follower pushes its changes on the store channel: current once the snapshot is in, stale when the issuer goes, once each', async (t) => {
  const events = storeEvents(t)
  const issuer = await issuerApp(t, memoryStore())
  const consumer = await consumerApp(t, issuer.url, 'secret')
  // Nobody asks health(): the follower publishes on its own.
  await eventually(async () => events.length > 0)
  t.same(events, [{ part: 'feed', state: 'current', previous: 'pending' }], 'current without health() being asked')
  await issuer.app.close()
  await eventually(async () => events.length > 1)
  t.same(events, [{ part: 'feed', state: 'current', previous: 'pending' }, { part: 'feed', state: 'stale', previous: 'current' }], 'stale without health() being asked')
  t.equal(consumer.jwtAuth.health().feed.state, 'stale')
  t.equal(events.length, 2, 'asking health() publishes nothing more')
})
