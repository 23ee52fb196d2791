import { test } from 'tap'
import { memoryStore, type MemoryStore } from '../../lib/index'
import { bearer, buildApp, decodePayload, login, renew } from '../helpers'

// A full memory store makes room by sweeping every expired entry, the registry's included,
// from within the write that needs it, and a sweep drops a user's maps once they are empty.
// A write that looked up the user's map before that sweep must not go on writing into a map
// the registry no longer holds: the session would work unlisted (no `GET /@sessions`, no
// `{ others: true }` reaches it) and its entry would be counted for good under `maxEntries`.

const MAX_ENTRIES = 20

/** Fills `store` to `maxEntries` with entries of another user that have already expired: the next new entry sweeps. */
function fillWithExpired (store: MemoryStore): void {
  const past = Math.floor(Date.now() / 1000) - 60
  for (let index = 0; store.size + store.registry.size < MAX_ENTRIES; index++) {
    store.registry.add('u-filler', { sid: `filler-${index}`, createdAt: 1, lastSeenAt: 1, expiresAt: past, ip: '192.0.2.9', userAgent: '' }, MAX_ENTRIES)
  }
}

const ids = (response: { json: () => any }): string[] => response.json().sessions.map((session: { id: string }) => session.id)

test('a login that sweeps the full store, after the user logged out of every session, is listed and ended by a logout of the others', async (t) => {
  const store = memoryStore({ maxEntries: MAX_ENTRIES })
  const app = await buildApp(t, { loginThrottle: false, revocationStore: store })
  const first = await login(app)
  t.equal((await app.inject({ method: 'POST', url: '/@logout', headers: bearer(first) })).statusCode, 204)
  fillWithExpired(store)

  const token = await login(app)
  const sid = decodePayload(token).sid as string
  t.equal((await app.inject({ url: '/me', headers: bearer(token) })).statusCode, 200, 'the new session works')
  t.same(ids(await app.inject({ url: '/@sessions', headers: bearer(token) })), [sid], 'so it is listed')
  t.equal(store.registry.size, store.registry.held('u-alice'), 'every entry counted is one the registry holds')

  const other = await login(app)
  t.equal((await app.inject({ method: 'POST', url: '/@logout', headers: bearer(other), payload: { others: true } })).statusCode, 204)
  t.equal((await app.inject({ url: '/me', headers: bearer(token) })).statusCode, 401, 'a logout of the others answered 204 ended it')
})

test('a login that sweeps the full store while the user\'s one listed session has expired is listed', async (t) => {
  const store = memoryStore({ maxEntries: MAX_ENTRIES })
  const app = await buildApp(t, { loginThrottle: false, revocationStore: store })
  // An entry past its expiry, not yet dropped: a login under the cap reads no other entry.
  const past = Math.floor(Date.now() / 1000) - 60
  store.registry.add('u-alice', { sid: 'expired', createdAt: 1, lastSeenAt: 1, expiresAt: past, ip: '192.0.2.1', userAgent: '' }, 5)
  fillWithExpired(store)

  const token = await login(app)
  t.same(ids(await app.inject({ url: '/@sessions', headers: bearer(token) })), [decodePayload(token).sid], 'the new session is listed')
  t.equal(store.registry.size, store.registry.held('u-alice'), 'every entry counted is one the registry holds')
})

test('an end that sweeps the full store is counted where the registry holds it', async (t) => {
  const store = memoryStore({ maxEntries: MAX_ENTRIES })
  const app = await buildApp(t, { loginThrottle: false, revocationStore: store })
  // Signed by the host, not listed: its end is the user's first ended entry, a new one. Renewed,
  // so that the store holds its record already and the end's own write needs no room: the
  // registry's entry is the one that sweeps.
  const signed = app.jwtAuth.sign({ sub: 'u-alice', roles: [] })
  const renewed = await renew(app, signed)
  t.equal(renewed.statusCode, 200)
  const token = renewed.json().token as string
  fillWithExpired(store)

  t.equal((await app.inject({ method: 'POST', url: '/@logout', headers: bearer(token) })).statusCode, 204)
  t.equal((await app.inject({ url: '/me', headers: bearer(token) })).statusCode, 401, 'the logout holds')
  t.equal(store.registry.held('u-alice'), 1, 'the ended session is held')
  t.equal(store.registry.size, 1, 'and it is the only entry counted')
})
