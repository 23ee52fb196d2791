import { test } from 'tap'
import { redisStore, type RedisStore } from '../../lib/index'
import { decodeId, encodeId } from '../../lib/stores/redis/keys'
import { bearer, buildApp, login } from '../helpers'
import { ended } from '../redis-log'
import { RedisServer, connected, eventually } from '../redis-server'

// A `sub` that is not well-formed UTF-16 (a lone surrogate, which JSON and a JWT carry) would
// reach Redis as UTF-8 with U+FFFD in its place, and the other instances' mirrors would
// record the cut-off under that other string; the store keeps such ids encoded.
test('a logout-all is honoured by every instance whatever the characters of the user id', async (t) => {
  const server = await RedisServer.start(t)
  const sub = 'u-\uD800'
  const apps = []
  const stores: RedisStore[] = []
  for (let index = 0; index < 2; index++) {
    const client = server.client()
    await connected(client)
    const store = redisStore({ client })
    t.teardown(async () => await store.close())
    stores.push(store)
    apps.push(await buildApp(t, { revocationStore: store, verifyCredentials: async () => ({ sub, roles: [] }) }))
    await store.ready()
  }
  const [here, there] = apps as [Awaited<ReturnType<typeof buildApp>>, Awaited<ReturnType<typeof buildApp>>]
  const first = await here.inject({ method: 'POST', url: '/@login', payload: { login: 'alice', password: 'any' } })
  if (first.statusCode !== 200) {
    // Refusing such an id at login (it cannot be stored as it is) keeps the promise too: no token to leak.
    t.pass(`refused at login (${first.statusCode})`)
    return
  }
  const token: string = first.json().token
  t.equal((await here.inject({ url: '/me', headers: bearer(token) })).json().sub, sub, 'the token carries the id as it is')
  t.equal((await there.inject({ method: 'POST', url: '/@logout', headers: bearer(await login(there)), payload: { all: true } })).statusCode, 204)
  // A logout on the other instance after it: once heard, the logout-all's message was heard first.
  await (stores[1] as RedisStore).end('marker', Math.floor(Date.now() / 1000) + 600)
  await eventually(async () => ended(stores[0] as RedisStore, 'marker'))
  t.equal((await there.inject({ url: '/me', headers: bearer(token) })).statusCode, 401, 'refused by the instance that logged out')
  t.equal((await here.inject({ url: '/me', headers: bearer(token) })).statusCode, 401, 'refused by the other instance too')
})

test('ids that UTF-8 cannot carry, or that look encoded, go to Redis encoded and come back exactly: through a load and a catch-up', async (t) => {
  const awkward = ['u-\uD800', '\uDC00x', 'a\uD800\uD800b', '\u0000json:"x"', 'plain', 'ünï \uD83D\uDE00']
  for (const id of awkward) t.equal(decodeId(encodeId(id)), id, `round trip of ${JSON.stringify(id)}`)
  t.equal(encodeId('plain'), 'plain', 'a well-formed id is kept as it is')
  t.equal(encodeId('\uD83D\uDE00'), '\uD83D\uDE00', 'a surrogate pair is well-formed')

  const server = await RedisServer.start(t)
  const admin = await server.admin()
  const writerClient = server.client()
  await connected(writerClient)
  const writer = redisStore({ client: writerClient, mode: 'lookup' })
  t.teardown(async () => await writer.close())
  await writer.ready()
  const [loadedSub, caughtSub] = ['loaded-\uD800', 'caught-\uDFFF']
  await writer.endSubject(loadedSub, 50, Math.floor(Date.now() / 1000) + 600)
  t.equal(await writer.subject(loadedSub), 50, 'lookup mode reads it back')
  const client = server.client()
  await connected(client)
  const mirror = redisStore({ client })
  t.teardown(async () => await mirror.close())
  await mirror.ready()
  t.equal(mirror.subject(loadedSub), 50, 'a mirror loads it under the token\'s own id')
  await admin.multi().call('CLIENT', 'KILL', 'TYPE', 'pubsub').exec()
  await writer.endSubject(caughtSub, 60, Math.floor(Date.now() / 1000) + 600)
  await eventually(async () => { try { return mirror.subject(caughtSub) === 60 } catch { return false } })
  t.pass('a mirror catching up from the log reads it under the token\'s own id')
})
