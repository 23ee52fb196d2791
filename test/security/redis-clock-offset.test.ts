import { test } from 'tap'
import FakeTimers from '@sinonjs/fake-timers'
import { bucketOf } from '../../lib/stores/redis/keys'
import { bearer, buildApp, decodePayload, login } from '../helpers'
import { ended, keys } from '../redis-log'
import { RedisServer, eventually } from '../redis-server'
import { storeOn } from '../redis-stores'

/*
 * The app's clock and Redis' are not the same clock: a managed Redis, a container whose host
 * drifted. A revocation must outlive its token whatever the offset, so the store gives Redis
 * relative lifetimes, never the app's absolute times.
 */

type Teardown = { teardown (fn: () => unknown): void }

/** The app's `Date` runs `offset` ms from the real one (and Redis'), advancing with it; undone after the test. */
function offsetClock (t: Teardown, offset: number): ReturnType<typeof FakeTimers.install> {
  const clock = FakeTimers.install({ now: Date.now() + offset, toFake: ['Date'], shouldAdvanceTime: true, advanceTimeDelta: 10 })
  t.teardown(() => clock.uninstall())
  return clock
}

const sleep = async (ms: number): Promise<void> => await new Promise((resolve) => setTimeout(resolve, ms))

/** Tokens of 32 s, nothing after `exp`: a revocation must live 32 s, whatever the clocks. */
const SHORT = { expiresIn: 32, clockTolerance: 0, renewGrace: 0 }

test('Redis 30 s ahead of the app: a logged-out token stays refused, by lookups and by a mirror loading fresh', async (t) => {
  const server = await RedisServer.start(t)
  offsetClock(t, -30_000)
  const lookup = await storeOn(t, server, { mode: 'lookup' })
  const app = await buildApp(t, { ...SHORT, revocationStore: lookup })
  const token = await login(app)
  t.equal((await app.inject({ method: 'POST', url: '/@logout', headers: bearer(token) })).statusCode, 204)
  t.equal((await app.inject({ url: '/me', headers: bearer(token) })).statusCode, 401)
  // An expiry at the app's `exp` (32 s from now) is 2 s from now on Redis' clock: past that, and then some.
  await sleep(3500)
  t.equal((await app.inject({ url: '/me', headers: bearer(token) })).statusCode, 401, 'still refused by a lookup, its token still within exp')
  const fresh = await storeOn(t, server, { mode: 'mirror' })
  const mirrored = await buildApp(t, { ...SHORT, revocationStore: fresh })
  t.ok(ended(fresh, decodePayload(token).sid as string), 'a mirror loading now holds the logout')
  t.equal((await mirrored.inject({ url: '/me', headers: bearer(token) })).statusCode, 401, 'and refuses the token')
})

test('Redis 30 s behind the app: revocations live as long as their tokens, in Redis and in a mirror, and no longer', async (t) => {
  const server = await RedisServer.start(t)
  const admin = await server.admin()
  const clock = offsetClock(t, 30_000)
  const mirror = await storeOn(t, server, { mode: 'mirror' })
  const other = await buildApp(t, { expiresIn: 60, clockTolerance: 0, renewGrace: 0, revocationStore: mirror })
  const writer = await storeOn(t, server, { mode: 'lookup' })
  const app = await buildApp(t, { expiresIn: 60, clockTolerance: 0, renewGrace: 0, revocationStore: writer })
  const token = await login(app)
  const { sid } = decodePayload(token) as { sid: string }
  t.equal((await app.inject({ method: 'POST', url: '/@logout', headers: bearer(token) })).statusCode, 204)
  for (const key of [keys.session(sid), keys.log(bucketOf(sid))]) {
    const left = Number(await admin.pttl(key))
    t.ok(left > 55_000 && left <= 61_000, `${key} lives the token's 60 s (rounded up to a second) on Redis' clock (${left} ms), not 30 s more`)
  }
  await eventually(async () => ended(mirror, sid))
  // 40 s later on the app's clock (Redis' says 10 s): the token is 20 s from its exp, so the mirror must still refuse it.
  clock.tick(40_000)
  const status = async (): Promise<number> => (await other.inject({ url: '/me', headers: bearer(token) })).statusCode
  await eventually(async () => await status() !== 503)
  t.equal(await status(), 401, 'the mirror still refuses the token before its exp')
  t.ok(ended(mirror, sid))
  // Past the token's exp on the app's clock: the mirror lets the entry go.
  clock.tick(25_000)
  await eventually(async () => { try { return mirror.session(sid) === undefined } catch { return false } })
  t.pass('the mirror forgets the entry once the token has expired')
})
