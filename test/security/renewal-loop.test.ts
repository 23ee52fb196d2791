import { test } from 'tap'
import { memoryStore, redisStore, type SessionRecord } from '../../lib/index'
import { bucketOf } from '../../lib/stores/redis/keys'
import { buildApp, decodePayload, fakeClock, login, renew } from '../helpers'
import { keys } from '../redis-log'
import { RedisServer, connected } from '../redis-server'

// One user renewing in a loop must not flood the store: a session's generation moves at most
// once a second, so a Redis bucket's log keeps minutes of changes, not seconds.

test('a loop of renewals with the newest token moves the generation at most once a second', async (t) => {
  const clock = fakeClock(t)
  const store = memoryStore()
  const app = await buildApp(t, { revocationStore: store })
  let token = await login(app)
  const sid = decodePayload(token).sid as string
  let renewed = 0
  let refused = 0
  for (let second = 0; second < 3; second++) {
    for (let index = 0; index < 20; index++) {
      const response = await renew(app, token)
      if (response.statusCode === 200) {
        renewed++
        token = response.json().token
        continue
      }
      refused++
      t.equal(response.statusCode, 429)
      t.equal(response.json().code, 'FST_JWT_SESSION_RENEWED_TOO_SOON')
      t.equal(response.headers['retry-after'], '1')
      clock.tick(10)
    }
    clock.tick(1_000)
  }
  t.equal(renewed, 3, 'one renewal a second')
  t.equal(refused, 57)
  t.equal((store.session(sid) as SessionRecord).generation, 3, 'the store moved three generations')
  t.equal(store.size, 1, 'one entry for the session')
})

test('renewals of the generation before, within the grace, are unchanged and write nothing', async (t) => {
  fakeClock(t)
  const store = memoryStore()
  const app = await buildApp(t, { revocationStore: store })
  const first = await login(app)
  const sid = decodePayload(first).sid as string
  t.equal((await renew(app, first)).statusCode, 200)
  const before = store.session(sid)
  for (let index = 0; index < 5; index++) {
    const response = await renew(app, first)
    t.equal(response.statusCode, 200, 'another tab renewing the same token')
    t.equal(decodePayload(response.json().token).gen, 1)
  }
  t.equal(store.session(sid), before, 'the record is untouched')
})

test('a renewal time ahead within the clock bound is recent; further ahead it cannot lock a session', async (t) => {
  const clock = fakeClock(t)
  // A tolerance wide enough that a token signed 6 s ahead still verifies here.
  const app = await buildApp(t, { clockTolerance: 30 })
  const first = await login(app)
  const second = (await renew(app, first)).json().token as string
  // The clock steps back 3 s, as another instance's clock would read 3 s behind this one:
  // within the bound, so the renewal just made there is recent (else two instances a second
  // apart, taken in turn, would let a loop through).
  clock.setSystemTime(Date.now() - 3_000)
  t.equal((await renew(app, second)).statusCode, 429, 'renewed 3 s ahead of this clock: too soon')
  // Past the bound: a clock that far off is no reason to refuse renewing for good.
  clock.setSystemTime(Date.now() - 3_000)
  t.equal((await renew(app, second)).statusCode, 200, 'renewed 6 s ahead of this clock: let through')
})

test('Redis: a loop of renewals writes at most one entry a second to the bucket\'s log', async (t) => {
  const server = await RedisServer.start(t)
  const admin = await server.admin()
  const clock = fakeClock(t)
  const client = server.client()
  await connected(client)
  const store = redisStore({ client })
  t.teardown(async () => await store.close())
  const app = await buildApp(t, { revocationStore: store })
  let token = await login(app)
  const log = keys.log(bucketOf(decodePayload(token).sid as string))
  const before = await admin.xlen(log)
  for (let second = 0; second < 2; second++) {
    for (let index = 0; index < 30; index++) {
      const response = await renew(app, token)
      if (response.statusCode === 200) token = response.json().token
      else t.equal(response.statusCode, 429)
    }
    clock.tick(1_000)
  }
  t.equal(await admin.xlen(log) - before, 2, 'two seconds of a renewal loop: two entries in the log')
  t.equal(decodePayload(token).gen, 2)
})
