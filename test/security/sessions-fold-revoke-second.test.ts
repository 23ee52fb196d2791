import { test } from 'tap'
import { memoryStore } from '../../lib/index'
import { bearer, buildApp, decodePayload, fakeClock, login } from '../helpers'

// `jwtAuth.revoke()` accepts claims without `auth_us` (a host that kept only `sub`, `sid` and
// `auth_time`). The registry then counts the session ended with a login time of its own. When
// the registry later folds that session into the user's cut-off, the cut-off must still cover
// the token's real `auth_us`: its revocation is forgotten, and the cut-off is all that refuses it.

test('a session revoked without auth_us, then folded into a cut-off, stays refused', async (t) => {
  const clock = fakeClock(t)
  const store = memoryStore()
  const app = await buildApp(t, { maxSessionsPerUser: 2, loginThrottle: false, revocationStore: store })
  clock.tick(400)
  const revoked = await login(app)
  const { sub, sid, auth_time: authTime, auth_us: authUs } = decodePayload(revoked)
  t.not(authUs % 1_000_000, 0, 'a login time past its second\'s first microsecond')
  await app.jwtAuth.revoke({ sub, sid, auth_time: authTime } as never)
  t.equal((await app.inject({ url: '/me', headers: bearer(revoked) })).statusCode, 401, 'revoked')
  // Sessions end one a second after it: past a cap of two ended, the oldest logins fold.
  for (let index = 0; index < 15; index++) {
    clock.tick(1000)
    const token = await login(app)
    t.equal((await app.inject({ method: 'POST', url: '/@logout', headers: bearer(token) })).statusCode, 204)
    t.equal((await app.inject({ url: '/me', headers: bearer(revoked) })).statusCode, 401, `the revoked token stays refused (${index})`)
  }
  t.equal(store.session(sid), undefined, 'the fold forgot the session\'s own revocation: the cut-off refuses it')
})
