import { test } from 'tap'
import { redisStore } from '../../lib/index'
import { bucketOf } from '../../lib/stores/redis/keys'
import { buildApp, decodePayload, fakeClock, login, renew } from '../helpers'
import { keys } from '../redis-log'
import { RedisServer, connected } from '../redis-server'

/*
 * "A session's newest generation moves at most once a second" is judged by each instance
 * against the renewal time another instance wrote with its own clock. A renewal time up to the
 * clock bound ahead counts as recent, so a client renewing its newest token in a loop,
 * alternating between two instances whose clocks are 2 s apart (within the 5 s bound), is
 * still refused: one user cannot trim a bucket's Redis log again (the renewal-loop finding).
 *
 * The process has one clock; each instance's reading is set before it answers.
 */

test('Redis: alternating two instances 2 s apart, a renewal loop writes at most one log entry a second', async (t) => {
  const server = await RedisServer.start(t)
  const admin = await server.admin()
  const clientA = server.client()
  const clientB = server.client()
  await connected(clientA)
  await connected(clientB)
  const storeA = redisStore({ client: clientA, mode: 'lookup' })
  const storeB = redisStore({ client: clientB, mode: 'lookup' })
  t.teardown(async () => { await storeA.close(); await storeB.close() })
  const ahead = await buildApp(t, { revocationStore: storeA })
  const right = await buildApp(t, { revocationStore: storeB })
  const clock = fakeClock(t)
  const real = Date.now()
  let token = await login(right)
  const log = keys.log(bucketOf(decodePayload(token).sid as string))
  const before = await admin.xlen(log)
  let renewed = 0
  // 40 renewals within 40 ms of real time, alternating the instances as a round-robin balancer does.
  for (let index = 0; index < 40; index++) {
    const onAhead = index % 2 === 0
    clock.setSystemTime(real + index + (onAhead ? 2_000 : 0))
    const response = await renew(onAhead ? ahead : right, token)
    if (response.statusCode === 200) {
      renewed++
      token = response.json().token
    } else {
      t.equal(response.statusCode, 429)
    }
  }
  t.ok(renewed <= 2, `at most two renewals in 40 ms of real time (got ${renewed})`)
  t.ok(await admin.xlen(log) - before <= 2, `at most two log entries (got ${await admin.xlen(log) - before})`)
})
