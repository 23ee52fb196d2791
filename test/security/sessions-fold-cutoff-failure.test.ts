import { test } from 'tap'
import { memoryStore, type RevocationStore } from '../../lib/index'
import { bearer, buildApp, decodePayload, login } from '../helpers'
import { RedisServer } from '../redis-server'
import { storeOn } from '../redis-stores'

// Past `maxSessionsPerUser` ended sessions, the oldest fold into a cut-off of the user, which
// also covers the live sessions that logged in before it. When recording that cut-off fails
// (a store timeout: the logout answers 503), a live session it would have covered still works:
// it must stay listed, so that the user can see it and end it, and so that `{ others: true }`
// answered 204 ends it with the rest.

/** `inner` with an `endSubject` that fails while `failing` is set: a fake only to reach the failure. */
function flaky<Store extends RevocationStore> (inner: Store): { store: Store, fail: (on: boolean) => void } {
  let failing = false
  const endSubject: RevocationStore['endSubject'] = async (sub, cutoff, expiresAt) => {
    if (failing) throw new Error('the store timed out')
    return await inner.endSubject(sub, cutoff, expiresAt)
  }
  const store = new Proxy(inner, {
    get: (target, key) => {
      if (key === 'endSubject') return endSubject
      const value: unknown = Reflect.get(target, key)
      return typeof value === 'function' ? value.bind(target) : value
    }
  })
  return { store, fail: (on) => { failing = on } }
}

const ids = (response: { json: () => any }): string[] => response.json().sessions.map((session: { id: string }) => session.id)

for (const kind of ['memory', 'Redis'] as const) {
  test(`${kind}: a fold whose cut-off cannot be recorded leaves the live sessions it covers listed, and a logout of the others ends them`, async (t) => {
    const inner = kind === 'memory' ? memoryStore() : await storeOn(t, await RedisServer.start(t))
    const { store, fail } = flaky<RevocationStore>(inner)
    const app = await buildApp(t, { maxSessionsPerUser: 2, loginThrottle: false, revocationStore: store })
    // The oldest login stays live; three later ones log out. The third logout folds the two
    // oldest ended sessions into a cut-off at the second's login, which covers the live one too.
    const oldest = await login(app)
    for (let index = 0; index < 2; index++) {
      const token = await login(app)
      t.equal((await app.inject({ method: 'POST', url: '/@logout', headers: bearer(token) })).statusCode, 204)
    }
    const last = await login(app)
    fail(true)
    const refused = await app.inject({ method: 'POST', url: '/@logout', headers: bearer(last) })
    t.equal(refused.statusCode, 503, 'the logout whose fold could not be recorded fails closed')
    t.equal(refused.json().code, 'FST_JWT_SESSION_STORE_UNAVAILABLE')
    fail(false)
    t.equal((await app.inject({ url: '/me', headers: bearer(last) })).statusCode, 401, 'the session logged out is ended all the same')
    t.equal((await app.inject({ url: '/me', headers: bearer(oldest) })).statusCode, 200, 'the live session the cut-off would cover did not end')

    const current = await login(app)
    t.ok(ids(await app.inject({ url: '/@sessions', headers: bearer(current) })).includes(decodePayload(oldest).sid), 'the session still working is listed')
    t.equal((await app.inject({ method: 'POST', url: '/@logout', headers: bearer(current), payload: { others: true } })).statusCode, 204)
    t.equal((await app.inject({ url: '/me', headers: bearer(oldest) })).statusCode, 401, 'a logout of the others answered 204 ended it')
    t.equal((await app.inject({ url: '/me', headers: bearer(current) })).statusCode, 200, 'this session goes on')
    t.same(ids(await app.inject({ url: '/@sessions', headers: bearer(current) })), [decodePayload(current).sid], 'and is the only one listed')
  })
}
