import { test } from 'tap'
import initSqlJs from 'sql.js'
import type { SessionRecord } from '../lib/index'
import { sqliteStore } from '../examples/sqlite-store'
import { bearer, buildApp, decodePayload, fakeClock, login, renew } from './helpers'

async function database (t: { teardown (fn: () => unknown): void }): Promise<import('sql.js').Database> {
  const SQL = await initSqlJs()
  const db = new SQL.Database()
  t.teardown(() => db.close())
  return db
}

test('the SQLite store example works as a revocation store: grace, replay, logout, logout-all', async (t) => {
  const clock = fakeClock(t)
  const app = await buildApp(t, { revocationStore: sqliteStore(await database(t)) })
  const token = await login(app)
  const tabs = await Promise.all([1, 2, 3].map(async () => await renew(app, token)))
  t.same(tabs.map((r) => r.statusCode), [200, 200, 200], 'concurrent renewals within the grace all succeed')
  t.same(new Set(tabs.map((r) => decodePayload(r.json().token).gen)), new Set([1]))
  clock.tick(11_000)
  t.equal((await app.inject({ url: '/me', headers: bearer(token) })).json().code, 'FST_JWT_SESSION_REVOKED_TOKEN', 'retired after the grace')
  t.equal((await renew(app, token)).json().code, 'FST_JWT_SESSION_REVOKED_TOKEN', 'a replay')
  t.equal((await app.inject({ url: '/me', headers: bearer(tabs[0]?.json().token) })).statusCode, 401, 'ended the session')
  const other = await login(app)
  t.equal((await app.inject({ method: 'POST', url: '/@logout', headers: bearer(other) })).statusCode, 204)
  t.equal((await app.inject({ url: '/me', headers: bearer(other) })).statusCode, 401)
  const phone = await login(app)
  t.equal((await app.inject({ method: 'POST', url: '/@logout', headers: bearer(phone), payload: { all: true } })).statusCode, 204)
  t.equal((await app.inject({ url: '/me', headers: bearer(phone) })).statusCode, 401)
  t.equal((await app.inject({ url: '/me', headers: bearer(await login(app)) })).statusCode, 200, 'a login after it works')
})

test('the SQLite store keeps one row per session, a cut-off past the one held, and forgets expired rows', async (t) => {
  const clock = fakeClock(t, 1_000_000_000)
  const db = await database(t)
  const store = sqliteStore(db)
  t.same(store.renew('s', 0, 10, 1_000_060), { generation: 1, renewedAt: 10, ended: false })
  t.same(store.renew('s', 0, 20, 1_000_060), { generation: 1, renewedAt: 10, ended: false }, 'generation 0 renewed again: unchanged')
  for (let generation = 1; generation < 100; generation++) store.renew('s', generation, 30, 1_000_060)
  t.same(store.session('s'), { generation: 100, renewedAt: 30, ended: false })
  store.end('s', 1_000_030)
  t.equal((store.renew('s', 100, 40, 1_000_060) as SessionRecord).ended, true, 'no renewal after the end')
  store.endSubject('u', 50, 1_000_060)
  store.endSubject('u', 40, 1_000_030)
  t.equal(store.subject('u'), 51, 'one µs past the larger cut-off held')
  t.equal(store.subject('nobody'), undefined)
  t.same(db.exec('SELECT count(*) FROM sessions')[0]?.values, [[1]], 'one row for a hundred renewals')
  clock.tick(61_000)
  t.equal(store.session('s'), undefined, 'expired')
  t.equal(store.subject('u'), undefined, 'expired')
  store.renew('t', 0, 1, 1_000_100)
  t.same(db.exec('SELECT sid FROM sessions')[0]?.values, [['t']], 'the expired row was deleted')
})
