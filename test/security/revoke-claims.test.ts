import { test } from 'tap'
import { bearer, buildApp, fakeClock, login } from '../helpers'

// jwtAuth.revoke takes claims from the host, which may not come from a verified token: no time
// in them may shorten what is recorded, and times no token of ours carries are refused.

test('revoke refuses claims whose login time no token carries', async (t) => {
  const app = await buildApp(t)
  const token = await login(app)
  const claims = await app.jwtAuth.verify(token)
  const now = Math.floor(Date.now() / 1000)
  for (const [name, authTime] of [['0', 0], ['negative', -5], ['not whole', claims.auth_time + 0.5], ['an hour ahead', now + 3600], ['a string', String(now)], ['NaN', Number.NaN]] as const) {
    await t.rejects(app.jwtAuth.revoke({ ...claims, auth_time: authTime as number }), TypeError, `auth_time ${name}`)
  }
  t.equal((await app.inject({ url: '/me', headers: bearer(token) })).statusCode, 200, 'nothing was recorded')
})

for (const [name, authTime] of [['a login of 1970', 1], ['a login older than maxSessionAge', Math.floor(Date.now() / 1000) - 8 * 86_400]] as const) {
  test(`after revoke resolves, a token of that sid is refused, with ${name} in the claims`, async (t) => {
    fakeClock(t)
    const app = await buildApp(t, { maxSessionAge: '7d' })
    const token = await login(app)
    const claims = await app.jwtAuth.verify(token)
    await app.jwtAuth.revoke({ ...claims, auth_time: authTime })
    t.equal((await app.inject({ url: '/me', headers: bearer(token) })).statusCode, 401)
    t.equal((await app.inject({ method: 'POST', url: '/@login-renew', headers: bearer(token) })).statusCode, 401, 'and cannot be renewed')
  })
}

test('revoke with the claims of a verified token still works', async (t) => {
  const app = await buildApp(t)
  const token = await login(app)
  await app.jwtAuth.revoke(await app.jwtAuth.verify(token))
  t.equal((await app.inject({ url: '/me', headers: bearer(token) })).statusCode, 401)
})
