import { test } from 'tap'
import { startMicroservices } from '../examples/microservices/start'
import { buildOrdersService } from '../examples/microservices/orders-service'
import { eventually } from './feed-helpers'

/** The README walkthrough, request for request: the logout reaches orders through the feed, the only link between the two services. */
test('the microservices walkthrough works as printed: a logout at users is refused at orders through the feed', async (t) => {
  const services = await startMicroservices({ USERS_PORT: '0', ORDERS_PORT: '0', FEED_KEY: 'a-service-credential' })
  t.teardown(services.close)
  const json = { 'content-type': 'application/json' }
  const login = await fetch(`${services.users}/@login`, { method: 'POST', headers: json, body: JSON.stringify({ login: 'roger', password: 'roger' }) })
  const { token } = await login.json() as { token: string }
  const auth = { authorization: `Bearer ${token}` }
  const jwks = await (await fetch(`${services.users}/.well-known/jwks.json`)).json() as { keys: Array<Record<string, string>> }
  t.match(jwks.keys, [{ kty: 'EC', alg: 'ES256', use: 'sig', crv: 'P-256', kid: /^users-\d{4}-\d\d-\d\d$/ }])
  // The orders service answers 503 until its first snapshot of the feed: at once in practice.
  t.ok(await eventually(async () => (await fetch(`${services.orders}/orders`, { headers: auth })).status !== 503), 'the orders service follows the feed')
  const created = await fetch(`${services.orders}/orders`, { method: 'POST', headers: { ...auth, ...json }, body: JSON.stringify({ item: 'carrots' }) })
  t.equal(created.status, 201)
  t.same(await created.json(), { id: 1, item: 'carrots' })
  t.same(await (await fetch(`${services.orders}/orders`, { headers: auth })).json(), { user: 'roger', orders: [{ id: 1, item: 'carrots' }] })
  t.equal((await fetch(`${services.orders}/@login`, { method: 'POST', headers: json, body: '{}' })).status, 404)

  // The feed is for services holding the credential, not for users.
  t.equal((await fetch(`${services.users}/@revocations`, { headers: auth })).status, 403, 'a user token does not open the feed')
  t.equal((await fetch(`${services.users}/@revocations`, { headers: { 'x-feed-key': 'a-guess' } })).status, 403, 'nor a wrong key')

  t.equal((await fetch(`${services.users}/@logout`, { method: 'POST', headers: auth })).status, 204)
  // The event travels over the feed, a few milliseconds later.
  t.ok(await eventually(async () => (await fetch(`${services.orders}/orders`, { headers: auth })).status === 401), 'the logout reaches orders')
  const refused = await fetch(`${services.orders}/orders`, { headers: auth })
  t.equal((await refused.json() as { code: string }).code, 'FST_JWT_SESSION_REVOKED_TOKEN')
})

test('an orders service without the feed credential answers 503: it never guesses', async (t) => {
  const services = await startMicroservices({ USERS_PORT: '0', ORDERS_PORT: '0', FEED_KEY: 'a-service-credential' })
  t.teardown(services.close)
  const login = await fetch(`${services.users}/@login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ login: 'roger', password: 'roger' }) })
  const auth = { authorization: `Bearer ${(await login.json() as { token: string }).token}` }
  const intruder = await buildOrdersService(services.users, 'a-guess')
  t.teardown(() => intruder.close())
  await intruder.ready()
  await new Promise((resolve) => setTimeout(resolve, 300))
  const response = await intruder.inject({ url: '/orders', headers: auth })
  t.equal(response.statusCode, 503, 'refused by the feed: no copy, no answer')
  t.equal(response.json().code, 'FST_JWT_SESSION_STORE_UNAVAILABLE')
})
