import { test } from 'tap'
import type { FastifyInstance } from 'fastify'
import { redisStore } from '../lib/index'
import { addressKey, loginKey } from '../lib/throttle/login-throttle'
import { buildApp, decodePayload } from './helpers'
import { RedisServer, connected } from './redis-server'

async function attempt (app: FastifyInstance, payload: Record<string, unknown>, address: string): Promise<number> {
  return (await app.inject({ method: 'POST', url: '/@login', payload, remoteAddress: address })).statusCode
}

test('with the Redis counter, an attempt refused by the address limit counts nothing under its login name', async (t) => {
  const server = await RedisServer.start(t)
  const client = server.client()
  await connected(client)
  const store = redisStore({ client })
  t.teardown(async () => await store.close())
  const app = await buildApp(t, { revocationStore: store, loginThrottle: { perAddress: { max: 1 } } })
  const redis = await server.admin()
  t.equal(await attempt(app, { login: 'bob', password: 'x' }, '203.0.113.9'), 401, 'the address spends its one failure')
  t.equal(await attempt(app, { login: 'alice', password: 'x' }, '203.0.113.9'), 429, 'then any name from it is refused')
  t.equal(await redis.exists(`jwt-session:attempts:${loginKey('alice')}`), 0, 'alice was not counted: no key')
  t.equal(await redis.get(`jwt-session:attempts:${addressKey('203.0.113.9')}`), '1')
  t.equal(await attempt(app, { login: 'alice', password: 'wonderland' }, '203.0.113.10'), 200, 'alice logs in from elsewhere')
})

test('every login gets its own 128-bit jti and sid, across many logins', async (t) => {
  const app = await buildApp(t, { loginThrottle: false })
  const ids = new Set<string>()
  // More ids than one draw from the random source holds, so that it is drawn again.
  for (let i = 0; i < 300; i++) {
    const response = await app.inject({ method: 'POST', url: '/@login', payload: { login: 'bob', password: 'builder' } })
    const { jti, sid } = decodePayload(response.json().token)
    for (const id of [jti, sid]) {
      if (!/^[A-Za-z0-9_-]{22}$/.test(id)) return t.fail(`not 128 bits of base64url: ${String(id)}`)
      ids.add(id)
    }
  }
  t.equal(ids.size, 600, 'no id twice')
})
