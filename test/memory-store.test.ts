import { test } from 'tap'
import { memoryStore } from '../lib/index'
import { bearer, buildApp, fakeClock, login } from './helpers'

const NOW = 1_000_000
const US = NOW * 1_000_000

test('renew makes the next generation current once, and answers the record after the call', async (t) => {
  fakeClock(t, NOW * 1000)
  const store = memoryStore()
  t.equal(store.session('s1'), undefined, 'nothing recorded for a session never renewed')
  t.has(store.renew('s1', 0, US + 1, NOW + 60), { generation: 1, renewedAt: US + 1, ended: false })
  t.has(store.renew('s1', 0, US + 2, NOW + 60), { generation: 1, renewedAt: US + 1, ended: false }, 'a second renewal of generation 0 changes nothing')
  t.has(store.renew('s1', 1, US + 3, NOW + 60), { generation: 2, renewedAt: US + 3, ended: false })
  t.has(store.renew('s1', 0, US + 4, NOW + 60), { generation: 2, renewedAt: US + 3, ended: false }, 'a generation past the one given is left alone')
  t.has(store.renew('s1', 5, US + 5, NOW + 60), { generation: 6, renewedAt: US + 5, ended: false }, 'a generation the store never saw moves it on')
  t.equal(store.size, 1, 'one entry per session, however many renewals')
})

test('end refuses every later renewal, and the session is answered as ended', async (t) => {
  fakeClock(t, NOW * 1000)
  const store = memoryStore()
  store.end('never-renewed', NOW + 60)
  t.equal(store.session('never-renewed')?.ended, true)
  store.renew('s1', 0, US, NOW + 60)
  store.end('s1', NOW + 30)
  t.equal(store.session('s1')?.ended, true)
  t.equal(store.renew('s1', 1, US + 9, NOW + 60).ended, true, 'a renewal after the end is refused')
  t.equal(store.session('s1')?.ended, true)
  t.equal(store.size, 2)
})

test('endSubject records a cut-off past the one held, and the later expiry', async (t) => {
  const clock = fakeClock(t, NOW * 1000)
  const store = memoryStore()
  t.equal(store.subject('u'), undefined)
  store.endSubject('u', US + 10, NOW + 60)
  store.endSubject('u', US + 5, NOW + 30)
  t.equal(store.subject('u'), US + 11, 'one µs past the held cut-off: a login may have been stamped just past it')
  store.endSubject('u', US + 20, NOW + 10)
  t.equal(store.subject('u'), US + 20)
  clock.tick(30_000)
  t.equal(store.subject('u'), US + 20, 'the later expiry was kept')
  clock.tick(30_000)
  t.equal(store.subject('u'), undefined, 'gone once expired')
})

test('entries are dropped once expired, renewals keep the later expiry, and an expired session starts afresh', async (t) => {
  const clock = fakeClock(t, NOW * 1000)
  const store = memoryStore()
  store.end('b', NOW + 30)
  store.renew('a', 0, US, NOW + 60)
  store.renew('a', 1, US + 1, NOW + 10)
  t.equal(store.size, 2)
  clock.tick(30_000)
  t.equal(store.session('b'), undefined, 'expired entries are not answered')
  t.equal(store.session('a')?.generation, 2, 'the later expiry of a was kept')
  store.end('c', NOW + 600)
  t.equal(store.size, 2, 'the expired front entry was dropped on the next write')
  clock.tick(30_000)
  t.has(store.renew('a', 0, US + 7, NOW + 600), { generation: 1, renewedAt: US + 7, ended: false }, 'expired: renewed afresh')
})

test('a full store sweeps expired entries, and refuses new keys (fails closed) only when all are live', async (t) => {
  const clock = fakeClock(t, NOW * 1000)
  const store = memoryStore({ maxEntries: 4 })
  store.end('long', NOW + 600)
  store.end('short1', NOW + 10)
  store.endSubject('user-long', US, NOW + 600)
  store.endSubject('short2', US, NOW + 10)
  t.throws(() => store.end('more', NOW + 600), /memoryStore holds 4 live entries/)
  t.throws(() => store.endSubject('more', US, NOW + 600), /memoryStore holds 4 live entries/, 'the same second: no sweep again')
  store.end('short1', NOW + 10)
  t.equal(store.session('short1')?.ended, true, 'a key already held is written without free space')
  t.equal(store.session('long')?.ended, true, 'nothing live was forgotten')
  t.equal(store.subject('user-long'), US)
  clock.tick(11_000)
  store.endSubject('more', US, NOW + 600)
  t.equal(store.size, 3, 'the sweep dropped the expired entries behind live front entries, in both maps')
  t.equal(store.session('short1'), undefined)
  t.equal(store.subject('short2'), undefined)
})

test('a full store answers 503 to a logout, and the token stays valid', async (t) => {
  // Two listed sessions and one revocation: the registry's entries count under maxEntries too.
  const app = await buildApp(t, { revocationStore: memoryStore({ maxEntries: 3 }) })
  const first = await login(app)
  const second = await login(app, 'bob')
  t.equal((await app.inject({ method: 'POST', url: '/@logout', headers: bearer(first) })).statusCode, 204)
  const full = await app.inject({ method: 'POST', url: '/@logout', headers: bearer(second) })
  t.equal(full.statusCode, 503)
  t.equal(full.json().code, 'FST_JWT_SESSION_STORE_UNAVAILABLE')
  t.equal((await app.inject({ url: '/me', headers: bearer(second) })).statusCode, 200)
  t.equal((await app.inject({ url: '/me', headers: bearer(first) })).statusCode, 401, 'the first logout holds')
})

test('one store shared by two apps: a logout at one is refused by the other', async (t) => {
  const store = memoryStore()
  const issuer = await buildApp(t, { revocationStore: store })
  const downstream = await buildApp(t, { revocationStore: store, routes: false })
  const token = await login(issuer)
  t.equal((await downstream.inject({ url: '/me', headers: bearer(token) })).statusCode, 200)
  await issuer.inject({ method: 'POST', url: '/@logout', headers: bearer(token) })
  t.equal((await downstream.inject({ url: '/me', headers: bearer(token) })).json().code, 'FST_JWT_SESSION_REVOKED_TOKEN')
})
