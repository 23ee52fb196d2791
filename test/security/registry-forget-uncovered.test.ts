import { test } from 'tap'
import { memoryStore, type RevocationStore, type SessionRegistry } from '../../lib/index'
import { bearer, buildApp, decodePayload, login } from '../helpers'
import { RedisServer } from '../redis-server'
import { storeOn } from '../redis-stores'

// `registry.forget(sub, sids)` is public: the plugin calls it only for sessions a recorded
// cut-off of the user covers, but a host's admin tool may call it too. Whatever it is given,
// it must never forget the revocation of a session the user's cut-off does not cover: that
// logout would be undone, and its token would work again.

for (const kind of ['memory', 'Redis'] as const) {
  test(`${kind}: forget keeps the revocation of a session no cut-off covers, whatever it is named`, async (t) => {
    const server = kind === 'Redis' ? await RedisServer.start(t) : undefined
    const store: RevocationStore & { registry: SessionRegistry } = server === undefined ? memoryStore() : await storeOn(t, server)
    const app = await buildApp(t, { loginThrottle: false, revocationStore: store })
    const early = await login(app)
    const late = await login(app)
    for (const token of [early, late]) t.equal((await app.inject({ method: 'POST', url: '/@logout', headers: bearer(token) })).statusCode, 204)
    // A cut-off that covers the early session only.
    await store.endSubject('u-alice', decodePayload(early).auth_us, decodePayload(late).exp + 60)
    const unlisted = 'never-listed-session'
    await store.end(unlisted, decodePayload(late).exp)
    await store.registry.forget('u-alice', [decodePayload(early).sid, decodePayload(late).sid, unlisted])
    // With Redis, read by an instance that looks everything up (a mirror keeps its copies until they expire).
    const reader = server === undefined ? store : await storeOn(t, server, { mode: 'lookup' })
    const fresh = server === undefined ? app : await buildApp(t, { loginThrottle: false, revocationStore: reader })
    t.equal((await fresh.inject({ url: '/me', headers: bearer(early) })).statusCode, 401, 'the covered session stays refused (by the cut-off)')
    t.equal((await fresh.inject({ url: '/me', headers: bearer(late) })).statusCode, 401, 'the session logged in after the cut-off keeps its revocation: still refused')
    t.ok((await reader.session(unlisted))?.ended, 'a session the registry does not hold keeps its revocation')
  })
}
