import { test } from 'tap'
import { memoryStore } from '../lib/index'
import { bearer, buildApp, fakeClock, login } from './helpers'

test('revoke answers true the first time and false once the key holds a cut-off as large', async (t) => {
  fakeClock(t, 1_000_000_000)
  const store = memoryStore()
  t.equal(store.revoke('jti:a', 100, 2_000_000), true)
  t.equal(store.revoke('jti:a', 100, 2_000_000), false, 'the same cut-off again: another renewal lost')
  t.equal(store.revoke('jti:a', 50, 2_000_000), false, 'a smaller cut-off changes nothing')
  t.equal(store.cutoff(['jti:a']), 100)
  t.equal(store.revoke('jti:a', 150, 2_000_000), true, 'a larger cut-off is recorded')
  t.equal(store.cutoff(['jti:a']), 150)
})

test('cutoff answers the largest live cut-off among the keys, or undefined', async (t) => {
  fakeClock(t, 1_000_000_000)
  const store = memoryStore()
  t.equal(store.cutoff(['jti:x', 'sid:y', 'sub:z']), undefined)
  store.revoke('sid:y', 10, 2_000_000)
  store.revoke('sub:z', 30, 2_000_000)
  store.revoke('jti:x', 20, 2_000_000)
  t.equal(store.cutoff(['jti:x', 'sid:y', 'sub:z']), 30)
  t.equal(store.cutoff(['jti:x', 'sid:y']), 20)
  t.equal(store.cutoff(['sid:other']), undefined)
})

test('an entry is dropped once the tokens it blocks have expired', async (t) => {
  const clock = fakeClock(t, 1_000_000_000)
  const store = memoryStore()
  const now = 1_000_000
  store.revoke('jti:a', now, now + 60)
  store.revoke('jti:b', now, now + 120)
  t.equal(store.size, 2)
  t.equal(store.revoke('jti:gone', now - 100, now - 1), true, 'already expired: answered, not kept')
  t.equal(store.size, 2)
  clock.tick(60_000)
  t.equal(store.cutoff(['jti:a']), undefined, 'expired entries are not answered')
  store.revoke('jti:c', now, now + 600)
  t.equal(store.size, 2, 'the expired front entry was dropped on the next write')
  t.equal(store.revoke('jti:a', now, now + 600), true, 'an expired key is revoked afresh')
  clock.tick(60_000)
  store.revoke('jti:d', now, now + 600)
  t.equal(store.size, 3, 'jti:b went too')
})

test('a full store sweeps expired entries, and refuses (fails closed) only when all are live', async (t) => {
  const clock = fakeClock(t, 1_000_000_000)
  const store = memoryStore({ maxEntries: 3 })
  const now = 1_000_000
  store.revoke('jti:long', now, now + 600)
  store.revoke('jti:short1', now, now + 10)
  store.revoke('jti:short2', now, now + 10)
  t.throws(() => store.revoke('jti:more', now, now + 600), /memoryStore holds 3 live revocations/)
  t.equal(store.cutoff(['jti:long']), now, 'nothing live was forgotten')
  clock.tick(11_000)
  t.equal(store.revoke('jti:more', now, now + 600), true, 'the sweep made room behind a live front entry')
  t.equal(store.size, 2)
})

test('an expired entry behind a live one is revoked afresh at the back', async (t) => {
  const clock = fakeClock(t, 1_000_000_000)
  const store = memoryStore({ maxEntries: 2 })
  const now = 1_000_000
  store.revoke('jti:long', now, now + 600)
  store.revoke('jti:short', now, now + 10)
  clock.tick(11_000)
  t.equal(store.cutoff(['jti:short']), undefined)
  t.equal(store.revoke('jti:short', now + 5, now + 700), true)
  t.equal(store.cutoff(['jti:short']), now + 5)
  t.equal(store.size, 2)
})

test('a full store of live entries refuses every revocation in the second, forgetting none', async (t) => {
  fakeClock(t, 1_000_000_000)
  const store = memoryStore({ maxEntries: 2 })
  const now = 1_000_000
  store.revoke('jti:one', now, now + 600)
  store.revoke('jti:two', now, now + 600)
  // The second refusal in the same second skips the sweep: nothing can have expired since.
  for (const key of ['jti:a', 'jti:b']) t.throws(() => store.revoke(key, now, now + 600), /live revocations/, key)
  t.equal(store.cutoff(['jti:one']), now)
  t.equal(store.cutoff(['jti:two']), now)
})

test('a full store answers 503 to a logout, and the token stays valid', async (t) => {
  const app = await buildApp(t, { revocationStore: memoryStore({ maxEntries: 1 }) })
  const first = await login(app)
  const second = await login(app, 'bob')
  t.equal((await app.inject({ method: 'POST', url: '/@logout', headers: bearer(first) })).statusCode, 204)
  const full = await app.inject({ method: 'POST', url: '/@logout', headers: bearer(second) })
  t.equal(full.statusCode, 503)
  t.equal(full.json().code, 'FST_JWT_SESSION_STORE_UNAVAILABLE')
  t.equal((await app.inject({ url: '/me', headers: bearer(second) })).statusCode, 200)
  t.equal((await app.inject({ url: '/me', headers: bearer(first) })).statusCode, 401, 'the first revocation holds')
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

test('entries whose span or cut-off does not fit one number are kept exactly, as pairs', async (t) => {
  fakeClock(t, 1_000_000_000)
  const store = memoryStore()
  const now = 1_000_000
  const cases: Array<[string, number, number]> = [
    ['a span of a year', now, now + 365 * 86400],
    ['an expiry before the cut-off', now + 500, now + 100],
    ['a fractional cut-off', now + 0.5, now + 600],
    ['a cut-off past 2038', 2 ** 31 + 7, now + 600],
    ['the usual packed case', now, now + 43_205]
  ]
  for (const [name, cutoff, expiresAt] of cases) {
    t.equal(store.revoke(name, cutoff, expiresAt), true, name)
    t.equal(store.cutoff([name]), cutoff, name)
    t.equal(store.revoke(name, cutoff, expiresAt), false, `${name}, again`)
  }
})
