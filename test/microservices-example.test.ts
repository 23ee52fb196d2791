import { test, type Test } from 'tap'
import { startMicroservices } from '../examples/microservices/start'
import { RedisServer, eventually } from './redis-server'

/** The README walkthrough, request for request. */
async function walkthrough (t: Test, env: Record<string, string>): Promise<void> {
  const services = await startMicroservices({ USERS_PORT: '0', ORDERS_PORT: '0', ...env })
  t.teardown(services.close)
  const json = { 'content-type': 'application/json' }
  const login = await fetch(`${services.users}/@login`, { method: 'POST', headers: json, body: JSON.stringify({ login: 'roger', password: 'roger' }) })
  const { token } = await login.json() as { token: string }
  const auth = { authorization: `Bearer ${token}` }
  const jwks = await (await fetch(`${services.users}/.well-known/jwks.json`)).json() as { keys: Array<Record<string, string>> }
  t.match(jwks.keys, [{ kty: 'EC', alg: 'ES256', use: 'sig', crv: 'P-256', kid: /^users-\d{4}-\d\d-\d\d$/ }])
  const created = await fetch(`${services.orders}/orders`, { method: 'POST', headers: { ...auth, ...json }, body: JSON.stringify({ item: 'carrots' }) })
  t.equal(created.status, 201)
  t.same(await created.json(), { id: 1, item: 'carrots' })
  t.same(await (await fetch(`${services.orders}/orders`, { headers: auth })).json(), { user: 'roger', orders: [{ id: 1, item: 'carrots' }] })
  t.equal((await fetch(`${services.orders}/@login`, { method: 'POST', headers: json, body: '{}' })).status, 404)
  t.equal((await fetch(`${services.users}/@logout`, { method: 'POST', headers: auth })).status, 204)
  // Through Redis the logout reaches the orders service by pub/sub, a few milliseconds later.
  await eventually(async () => (await fetch(`${services.orders}/orders`, { headers: auth })).status === 401)
  const refused = await fetch(`${services.orders}/orders`, { headers: auth })
  t.equal((await refused.json() as { code: string }).code, 'FST_JWT_SESSION_REVOKED_TOKEN')
}

test('the microservices walkthrough works as printed, with a shared memory store', async (t) => {
  await walkthrough(t, {})
})

test('the microservices walkthrough works with the services sharing Redis', async (t) => {
  const redis = await RedisServer.start(t)
  await walkthrough(t, { REDIS_URL: `redis://127.0.0.1:${redis.port}` })
})
