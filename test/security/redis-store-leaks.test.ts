import { test } from 'tap'
import FakeTimers from '@sinonjs/fake-timers'
import { redisStore } from '../../lib/index'
import { startRedisMirror } from '../../lib/stores/redis/mirror'
import { RedisServer, connected } from '../redis-server'

/*
 * What a closed store leaves behind on the host's client, which outlives it (the README:
 * "your client, yours to close"; `@fastify/redis` shares one across plugins and apps).
 */

test('a closed store leaves no listener on the host client (each would hold its mirror, copy and all)', async (t) => {
  const server = await RedisServer.start(t)
  const client = server.client()
  await connected(client)
  const listeners = client.listenerCount('end')
  const warnings: string[] = []
  const warned = (warning: Error): void => { warnings.push(warning.name) }
  process.on('warning', warned)
  t.teardown(() => { process.off('warning', warned) })
  // An app whose tests, or whose tenants, build and close an app (and its store) on one client.
  for (let index = 0; index < 12; index++) {
    const store = redisStore({ client })
    await store.ready()
    await store.close()
  }
  await new Promise((resolve) => setImmediate(resolve))
  t.equal(client.listenerCount('end'), listeners, 'as many "end" listeners as before the first store')
  t.notOk(warnings.includes('MaxListenersExceededWarning'), 'no MaxListenersExceededWarning')
})

test('a write that lands after close() and overflows the copy starts no retry loop', async (t) => {
  const server = await RedisServer.start(t)
  const client = server.client()
  await connected(client)
  t.teardown(() => { client.disconnect() })
  const mirror = startRedisMirror(client, 'jwt-session:', 'jwt-session:revoked', 1, { overflowRetryMs: 10, checkMs: 3_600_000 })
  await mirror.ready()
  await mirror.close()
  // Timers from here on are counted, and run on demand.
  const clock = FakeTimers.install({ toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval'] })
  t.teardown(() => { clock.uninstall() })
  // A logout whose script answered after the store closed: the store applies its own writes.
  mirror.apply('s', 'late-1', 'x', Math.floor(Date.now() / 1000) + 60)
  mirror.apply('s', 'late-2', 'x', Math.floor(Date.now() / 1000) + 60)
  await clock.tickAsync(60_000)
  t.equal(mirror.overflowing(), false, 'a closed mirror does not turn to Redis')
  t.equal(clock.countTimers(), 0, 'no timer left running after close (it retries every 500 ms, for ever)')
})
