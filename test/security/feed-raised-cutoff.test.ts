import { test } from 'tap'
import { decodePayload } from '../helpers'
import { consumerApp, eventually, issuerApp, memoryStore, statusOf } from '../feed-helpers'

/*
 * A logout-everywhere that meets a cut-off already held records one past it (a login may have
 * been stamped just past the held one). The feed must publish the value recorded, not the one
 * asked for: a follower holding the lower one would accept a session its issuer refuses.
 */
test('a cut-off raised past the one held reaches followers as raised', async (t) => {
  const store = memoryStore()
  const issuer = await issuerApp(t, store)
  const consumer = await consumerApp(t, issuer.url, 'secret')
  const token = issuer.app.jwtAuth.sign({ sub: 'u-alice' })
  const loggedInAt = decodePayload(token).auth_us as number
  const expiresAt = Math.floor(Date.now() / 1000) + 600
  t.ok(await eventually(async () => await statusOf(consumer, token) === 200), 'the consumer is current and accepts the token')
  // Two logouts-everywhere asking for the same cut-off, just before the token's login: the second is recorded one µs past the first.
  store.endSubject('u-alice', loggedInAt - 1, expiresAt)
  store.endSubject('u-alice', loggedInAt - 1, expiresAt)
  t.equal(store.subject('u-alice'), loggedInAt, 'the issuer holds a cut-off at the token\'s login')
  t.equal((await issuer.app.inject({ url: '/@login-renew', method: 'POST', headers: { authorization: `Bearer ${token}` } })).statusCode, 401, 'the issuer refuses the session')
  t.ok(await eventually(async () => await statusOf(consumer, token) === 401), 'and so does the follower')
})
