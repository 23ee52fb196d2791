import { test } from 'tap'
import initSqlJs from 'sql.js'
import type { MemoryStore, RevocationHistory, SessionEntry, SessionFold, SessionRecord, SessionRegistry } from '../lib/index'
import { sqliteStore } from '../examples/sqlite-store'
import { bearer, buildApp, decodePayload, fakeClock, login, renew } from './helpers'
import { consumerApp, eventually, issuerApp, loginAt, statusOf } from './feed-helpers'

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

test('the SQLite store feeds revocationFeed: a follower refuses what it ended, and a cursor resumes exactly', async (t) => {
  const db = await database(t)
  const store = sqliteStore(db)
  const issuer = await issuerApp(t, store as MemoryStore)
  const consumer = await consumerApp(t, issuer.url, 'secret')
  const before = await loginAt(issuer.app)
  t.equal((await issuer.app.inject({ method: 'POST', url: '/@logout', headers: bearer(before) })).statusCode, 204)
  t.ok(await eventually(async () => await statusOf(consumer, before) === 401), 'an end recorded before the follower came: in its snapshot')
  const token = await loginAt(issuer.app)
  t.equal(await statusOf(consumer, token), 200)
  t.equal((await issuer.app.inject({ method: 'POST', url: '/@logout', headers: bearer(token), payload: { all: true } })).statusCode, 204)
  t.ok(await eventually(async () => await statusOf(consumer, token) === 401), 'a logout-everywhere reaches it live')

  const history = store.history as RevocationHistory
  const { cursor } = await history.snapshot()
  store.end('s-1', Math.floor(Date.now() / 1000) + 60)
  t.same((await history.changesSince(cursor, 10))?.map((change) => change.kind === 'session' && change.sid), ['s-1'], 'what came after the cursor')
  t.same(await history.changesSince((await history.snapshot()).cursor, 10), [], 'nothing after the newest')
  t.equal(await history.changesSince('another-database.1', 10), undefined, 'another database\'s cursor: unknown')
  t.equal(await history.changesSince(`${cursor.split('.')[0] as string}.999999`, 10), undefined, 'a cursor ahead: unknown')
  db.run('DELETE FROM changes')
  t.equal(await history.changesSince(cursor, 10), undefined, 'a cursor the history no longer holds: unknown')
})

test('the SQLite store\'s registry: listed, least recently used evicted past max, touched, ended ones folded into a cut-off', async (t) => {
  const clock = fakeClock(t, 1_000_000_000)
  const db = await database(t)
  const registry = sqliteStore(db).registry as SessionRegistry
  const at = (second: number): number => second * 1e6
  const entry = (sid: string, second: number): SessionEntry => ({ sid, createdAt: at(second), lastSeenAt: at(second), expiresAt: 1_000_600, ip: '10.0.0.1', userAgent: `agent ${sid}` })
  t.same(registry.add('u', entry('a', 1), 2), [])
  t.same(registry.add('u', entry('b', 2), 2), [])
  registry.touch('u', { ...entry('a', 1), lastSeenAt: at(3), ip: '10.0.0.2' })
  t.same((registry.add('u', entry('c', 4), 2) as SessionEntry[]).map((evicted) => evicted.sid), ['b'], 'the least recently used past max')
  t.same((registry.list('u') as SessionEntry[]).map((listed) => [listed.sid, listed.ip]).sort(), [['a', '10.0.0.2'], ['c', '10.0.0.1']])
  registry.touch('other-user', { ...entry('a', 1), ip: '10.9.9.9' })
  t.equal((registry.list('u') as SessionEntry[]).find((listed) => listed.sid === 'a')?.ip, '10.0.0.2', 'another user touches nothing')
  t.equal(registry.ended('u', 'b', at(2), 1_000_600, 2), undefined)
  t.equal(registry.ended('u', 'x', at(5), 1_000_600, 2), undefined, 'an end it never listed is counted too')
  const fold = registry.ended('u', 'c', at(4), 1_000_600, 2) as SessionFold
  t.same({ cutoff: fold.cutoff, sids: [...fold.sids].sort() }, { cutoff: at(2), sids: ['a', 'b'] }, 'the oldest past max, and the live one logged in before it')
  t.same((registry.list('u') as SessionEntry[]).map((listed) => listed.sid), ['a'], 'c ended; a stays listed until the cut-off is recorded')
  db.run("INSERT INTO sessions VALUES ('b', 0, 0, 1, 1000600)")
  registry.forget('u', fold.sids)
  t.same(db.exec("SELECT count(*) FROM sessions WHERE sid = 'b'")[0]?.values, [[1]], 'without a cut-off of the user, forget forgets nothing')
  db.run("INSERT INTO subjects VALUES ('u', ?, 1000600)", [at(2)])
  db.run("INSERT INTO sessions VALUES ('x', 0, 0, 1, 1000600), ('unlisted', 0, 0, 1, 1000600)")
  registry.forget('u', [...fold.sids, 'x', 'unlisted'])
  t.same(db.exec("SELECT count(*) FROM sessions WHERE sid = 'b'")[0]?.values, [[0]], 'forget drops the revocation the cut-off now covers')
  t.same(db.exec("SELECT sid FROM sessions WHERE sid IN ('x', 'unlisted') ORDER BY sid")[0]?.values, [['unlisted'], ['x']],
    'and keeps those it does not cover, or that the registry does not hold, whatever it is named')
  t.same((registry.list('u') as SessionEntry[]), [], 'and a, which it covers, leaves the list')
  t.same(db.exec("SELECT sid FROM registry WHERE sub = 'u' ORDER BY sid")[0]?.values, [['c'], ['x']], 'x, logged in after the cut-off, stays though named')
  clock.tick(601_000)
  t.same(registry.add('u', { ...entry('d', 1_000_601), expiresAt: 1_001_300 }, 2), [], 'expired rows are dropped')
  t.same(db.exec("SELECT sid FROM registry WHERE sub = 'u'")[0]?.values, [['d']])
})
