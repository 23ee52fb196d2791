import { test } from 'tap'
import initSqlJs from 'sql.js'
import { sqliteStore } from '../examples/sqlite-store'
import { bearer, buildApp, fakeClock, login } from './helpers'

test('the SQLite store example works as a revocation store', async (t) => {
  const SQL = await initSqlJs()
  const db = new SQL.Database()
  t.teardown(() => db.close())
  const app = await buildApp(t, { revocationStore: sqliteStore(db) })
  const token = await login(app)
  const renewed = await app.inject({ method: 'POST', url: '/@login-renew', headers: bearer(token) })
  t.equal(renewed.statusCode, 200)
  t.equal((await app.inject({ url: '/me', headers: bearer(token) })).json().code, 'FST_JWT_SESSION_REVOKED_TOKEN')
  const fresh = renewed.json().token
  const again = await Promise.all([1, 2, 3].map(async () => await app.inject({ method: 'POST', url: '/@login-renew', headers: bearer(fresh) })))
  t.equal(again.filter((r) => r.statusCode === 200).length, 1, 'one renewal wins')
  const other = await login(app)
  t.equal((await app.inject({ method: 'POST', url: '/@logout', headers: bearer(other), payload: { all: true } })).statusCode, 204)
  t.equal((await app.inject({ url: '/me', headers: bearer(other) })).statusCode, 401)
})

test('the SQLite store keeps the larger cut-off and forgets expired rows', async (t) => {
  const clock = fakeClock(t, 1_000_000_000)
  const SQL = await initSqlJs()
  const db = new SQL.Database()
  t.teardown(() => db.close())
  const store = sqliteStore(db)
  t.equal(store.revoke('sub:a', 10, 1_000_060), true)
  t.equal(store.revoke('sub:a', 10, 1_000_060), false)
  t.equal(store.revoke('sub:a', 20, 1_000_030), true)
  t.equal(store.cutoff(['sub:a', 'jti:b']), 20)
  t.equal(store.cutoff(['jti:b']), undefined)
  clock.tick(61_000)
  t.equal(store.cutoff(['sub:a']), undefined, 'expired')
  store.revoke('jti:c', 1, 1_000_100)
  t.same(db.exec('SELECT key FROM revocations')[0]?.values, [['jti:c']], 'the expired row was deleted')
})
