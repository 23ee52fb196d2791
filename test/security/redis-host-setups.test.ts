import { test } from 'tap'
import { OptionError, redisStore } from '../../lib/index'
import { bearer, buildApp, login } from '../helpers'
import { RedisServer, connected, eventually } from '../redis-server'

/*
 * The host's client as hosts configure it. ioredis' `keyPrefix` ("transparent key
 * prefixing", a documented option, passed through by `@fastify/redis`) prefixes the keys of
 * every command, but not SCAN's MATCH pattern, and SCAN answers the keys with the prefix.
 *
 * Also: what the host's Redis may hold under the prefix besides the store's own keys.
 * The store refuses a client with `keyPrefix`; a log key of another type is read as an
 * empty log, so it fails only the writes of its bucket.
 */

// A mirror started on such a client loads none of the revocations already in Redis (the
// SCAN pattern misses them all), and the store starts all the same.
test('a client with ioredis keyPrefix: a mirror started after a logout refuses the logged-out token (or the store refuses the client)', async (t) => {
  const server = await RedisServer.start(t)
  const first = server.client({ keyPrefix: 'app:' })
  await connected(first)
  let store
  try {
    store = redisStore({ client: first })
  } catch (error) {
    // Refusing such a client, with a reason, keeps the promise too.
    t.ok(error instanceof OptionError && /keyPrefix/.test(error.message), 'the store refuses a client with keyPrefix, naming it')
    return
  }
  t.teardown(async () => await store.close())
  const app = await buildApp(t, { revocationStore: store })
  await store.ready()
  const token = await login(app)
  t.equal((await app.inject({ method: 'POST', url: '/@logout', headers: bearer(token) })).statusCode, 204)
  t.equal((await app.inject({ url: '/me', headers: bearer(token) })).statusCode, 401, 'refused where the logout was made')

  // A new instance (a deploy, a scale-out, or a full load after a trimmed log).
  const second = server.client({ keyPrefix: 'app:' })
  await connected(second)
  const fresh = redisStore({ client: second })
  t.teardown(async () => await fresh.close())
  const later = await buildApp(t, { revocationStore: fresh })
  const started = await fresh.ready().then(() => true, () => false)
  const status = (await later.inject({ url: '/me', headers: bearer(token) })).statusCode
  t.ok(started ? status === 401 : status === 503, `the logged-out token is refused by the new instance (started: ${String(started)}, status ${status})`)
})

// The README says a key of another type under the prefix "is not the store's and is read
// past"; a log key of another type must not wall every request of every instance with 503
// (each catch-up and each load failing on it, for ever), only fail the logouts of its bucket.
test('a key of another type where a log belongs is not a 503 wall', async (t) => {
  const server = await RedisServer.start(t)
  const admin = await server.admin()
  const client = server.client()
  await connected(client)
  const store = redisStore({ client })
  t.teardown(async () => await store.close())
  const app = await buildApp(t, { revocationStore: store })
  await store.ready()
  const token = await login(app)
  await admin.set('jwt-session:log:{3}', 'not a stream')
  await admin.call('CLIENT', 'KILL', 'TYPE', 'pubsub')
  await eventually(async () => (await app.inject({ url: '/me', headers: bearer(token) })).statusCode === 503)
  const answered = await eventually(async () => (await app.inject({ url: '/me', headers: bearer(token) })).statusCode === 200, 5000).then(() => true, () => false)
  t.ok(answered, 'requests are answered again after the blip')
})
