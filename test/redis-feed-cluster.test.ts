import { test } from 'tap'
import { RedisClusterServers } from './redis-cluster'
import { loginAt } from './feed-helpers'
import { consumerMoved, instances, lastId, logout, readFeed } from './redis-feed-helpers'

/*
 * The revocation feed on a Redis Cluster of three masters: the buckets' logs live on every
 * master, and a consumer moved from one instance to another misses no logout, in both modes.
 */

test('on a real 3-master Redis Cluster', async (t) => {
  const cluster = await RedisClusterServers.start(t)
  t.test('another instance resumes a cursor: the changes only, from every master\'s logs', async (t) => {
    const { feeds: [a, b], quiet } = await instances(t, async () => await cluster.ready(), 'mirror')
    const tokens = [await loginAt(a.app), await loginAt(b.app, 'bob'), await loginAt(quiet.app)]
    const start = await readFeed(a.url, undefined, (read) => read.some((event) => event.type === 'heartbeat'))
    t.equal(await logout(quiet.app, tokens[0] as string), 204)
    t.equal(await logout(a.app, tokens[1] as string, true), 204)
    t.equal(await logout(b.app, tokens[2] as string), 204)
    const resumed = await readFeed(b.url, lastId(start.events), (read) => read.some((event) => event.type === 'heartbeat'))
    t.same(resumed.events.map((event) => event.type).sort(), ['heartbeat', 'session-revoked', 'session-revoked', 'subject-revoked'])
    t.equal(resumed.events.at(-1)?.type, 'heartbeat', 'no snapshot: a resume')
  })
  for (const mode of ['mirror', 'lookup'] as const) {
    t.test(`a consumer moved from one instance to another misses no logout (${mode})`, async (t) => {
      await consumerMoved(t, await instances(t, async () => await cluster.ready(), mode))
    })
  }
})
