import { test } from 'tap'
import { memoryStore, redisStore, type RedisClient, type RevocationStore } from '../../lib/index'
import { buildApp } from '../helpers'
import { RedisServer, connected } from '../redis-server'

/*
 * A login reads the user's logout-all cut-off after the host checked the credentials, and
 * fails closed (503) when the store cannot answer. Such a login had the right password: its
 * attempt is given back as a successful one's is, so users retrying through an outage (a Redis
 * mirror distrusted during a resync or a full reload, a failover) do not lock their name (10)
 * or their whole address, a NAT or a proxy (100), out for the 15-minute window.
 */

const loginAs = async (app: Awaited<ReturnType<typeof buildApp>>, name: string, password: string): Promise<number> =>
  (await app.inject({ method: 'POST', url: '/@login', payload: { login: name, password } })).statusCode

test('logins with the right password refused 503 while the store cannot tell the cut-off do not count as failures', async (t) => {
  const inner = memoryStore()
  let down = false
  const subject = (sub: string): number | undefined => {
    if (down) throw new Error('the store cannot answer')
    return inner.subject(sub)
  }
  const store: RevocationStore = { session: (sid) => inner.session(sid), subject, renew: inner.renew, end: inner.end, endSubject: inner.endSubject }
  const app = await buildApp(t, { revocationStore: store })

  down = true
  for (let attempt = 0; attempt < 10; attempt++) t.equal(await loginAs(app, 'alice', 'wonderland'), 503, 'the right password, while the store is away')
  down = false
  t.equal(await loginAs(app, 'alice', 'wonderland'), 200, 'once the store is back, the right password logs in')
})

test('an address whose users retried through a store outage is not locked out once it is back', async (t) => {
  const inner = memoryStore()
  let down = false
  const subject = (sub: string): number | undefined => {
    if (down) throw new Error('the store cannot answer')
    return inner.subject(sub)
  }
  const store: RevocationStore = { session: (sid) => inner.session(sid), subject, renew: inner.renew, end: inner.end, endSubject: inner.endSubject }
  const app = await buildApp(t, { revocationStore: store, loginThrottle: { perLogin: false, perAddress: { max: 5, window: '15m' } } })

  down = true
  for (let attempt = 0; attempt < 5; attempt++) t.equal(await loginAs(app, attempt % 2 === 0 ? 'alice' : 'bob', attempt % 2 === 0 ? 'wonderland' : 'builder'), 503)
  down = false
  t.equal(await loginAs(app, 'bob', 'builder'), 200, 'another user behind the same address logs in once the store is back')
})

test('Redis: logins refused 503 while the mirror is not yet in sync leave the account locked once it is', async (t) => {
  const server = await RedisServer.start(t)
  const hostClient = server.client()
  await connected(hostClient)
  // The mirror's subscription is held, as during a resync or a full reload: its copy is not
  // trusted (503), while the attempt counter, on the host's client, works.
  let subscribed!: () => void
  const holding = new Promise<void>((resolve) => { subscribed = resolve })
  const host = new Proxy(hostClient, {
    get (target, property) {
      if (property === 'duplicate') {
        return () => {
          const connection = target.duplicate()
          const subscribe = connection.subscribe.bind(connection) as (...args: unknown[]) => Promise<unknown>
          ;(connection as unknown as { subscribe: unknown }).subscribe = async (...args: unknown[]) => { await holding; return await subscribe(...args) }
          return connection
        }
      }
      const value = Reflect.get(target, property, target)
      return typeof value === 'function' ? value.bind(target) : value
    }
  }) as unknown as RedisClient
  const store = redisStore({ client: host })
  t.teardown(async () => await store.close())
  const app = await buildApp(t, { revocationStore: store, storeTimeout: 300 })
  for (let attempt = 0; attempt < 10; attempt++) t.equal(await loginAs(app, 'alice', 'wonderland'), 503, 'the right password, while the mirror catches up')
  subscribed()
  await store.ready()
  t.equal(await loginAs(app, 'alice', 'wonderland'), 200, 'once the mirror is in sync, the right password logs in')
})
