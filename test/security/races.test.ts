import { test } from 'tap'
import { bearer, buildApp, login } from '../helpers'

test('a logout while fifty requests are in flight: every request sent after the logout answer is refused', async (t) => {
  const app = await buildApp(t)
  const token = await login(app)
  const inFlight = Array.from({ length: 50 }, async () => (await app.inject({ url: '/me', headers: bearer(token) })).statusCode)
  const logout = await app.inject({ method: 'POST', url: '/@logout', headers: bearer(token) })
  t.equal(logout.statusCode, 204)
  const during = await Promise.all(inFlight)
  t.ok(during.every((status) => status === 200 || status === 401), 'requests racing the logout get 200 or 401, nothing else')
  const after = await Promise.all(Array.from({ length: 50 }, async () => (await app.inject({ url: '/me', headers: bearer(token) })).statusCode))
  t.same(new Set(after), new Set([401]), 'all fifty sent after the answer are refused')
})
