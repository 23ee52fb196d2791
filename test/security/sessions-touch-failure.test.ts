import { test } from 'tap'
import { memoryStore } from '../../lib/index'
import { bearer, buildApp, fakeClock, login, renew } from '../helpers'

// A session's listing lasts as long as the token last issued for it: each renewal moves its
// `expiresAt`. A renewal whose sighting the registry missed must not hand out a token that
// outlives the listing: the session would drop off the list while it still works, and a logout
// of the others (204) would leave it working.

test('a renewal the registry could not record never leaves a working session off the list', async (t) => {
  const clock = fakeClock(t)
  const store = memoryStore()
  const app = await buildApp(t, { expiresIn: 60, loginThrottle: false, revocationStore: store })
  const registry = store.registry
  const touch = registry.touch.bind(registry)
  const first = await login(app)
  clock.tick(50_000)
  registry.touch = () => { throw new Error('the registry is down') }
  const missed = await renew(app, first)
  registry.touch = touch
  const second = missed.statusCode === 200 ? missed.json().token as string : (await renew(app, first)).json().token as string
  clock.tick(40_000)
  const third = await renew(app, second)
  t.equal(third.statusCode, 200, 'the session renews on')
  const elsewhere = await login(app)
  t.equal((await app.inject({ method: 'POST', url: '/@logout', headers: bearer(elsewhere), payload: { others: true } })).statusCode, 204)
  t.equal((await app.inject({ url: '/me', headers: bearer(third.json().token) })).statusCode, 401, 'a logout of the others ended it')
})
