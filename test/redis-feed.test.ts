import { test } from 'tap'
import { bearer, decodePayload } from './helpers'
import { loginAt } from './feed-helpers'
import { intercepted, keys } from './redis-log'
import { bucketOf } from '../lib/stores/redis/keys'
import { connected, RedisServer } from './redis-server'
import { consumerMoved, instances, lastId, logout, readFeed, redisIssuer, type Instance } from './redis-feed-helpers'

/*
 * The revocation feed on the Redis store: every instance on one Redis serves every change in
 * its logs, whoever recorded it (an instance without a feed too), and resumes a cursor any
 * other instance issued; a consumer moved from one instance to another misses nothing.
 */

for (const mode of ['mirror', 'lookup'] as const) {
  test(`a consumer moved from one instance to another misses no logout, wherever it was made (${mode})`, async (t) => {
    const server = await RedisServer.start(t)
    await consumerMoved(t, await instances(t, async () => { const client = server.client(); await connected(client); return client }, mode))
  })
}

test('any instance resumes another one\'s cursor; a trimmed log or a foreign cursor gets a snapshot', async (t) => {
  const server = await RedisServer.start(t)
  const { feeds: [a, b, c], quiet } = await instances(t, async () => { const client = server.client(); await connected(client); return client }, 'mirror') as { feeds: [Instance, Instance, Instance], quiet: Instance }
  const [first, second, third] = [await loginAt(a.app), await loginAt(b.app), await loginAt(c.app, 'bob')]
  const start = await readFeed(a.url, undefined, (read) => read.some((event) => event.type === 'heartbeat'))
  t.same(start.events.map((event) => event.type), ['snapshot', 'heartbeat'])

  t.equal(await logout(quiet.app, first), 204)
  const renewed = await b.app.inject({ method: 'POST', url: '/@login-renew', headers: bearer(second) })
  t.equal(renewed.statusCode, 200)
  t.equal(await logout(c.app, third, true), 204)
  const resumed = await readFeed(b.url, lastId(start.events), (read) => read.some((event) => event.type === 'heartbeat'))
  t.same(resumed.events.map((event) => event.type), ['session-revoked', 'session-renewed', 'subject-revoked', 'heartbeat'], 'another instance resumes: the changes only, in order')
  t.ok(resumed.events.slice(0, 3).every((event) => event.id !== undefined), 'each change carries a cursor')

  const again = await readFeed(c.url, lastId(resumed.events), (read) => read.length > 0)
  t.same(again.events.map((event) => event.type), ['heartbeat'], 'a third instance resumes after the last change: nothing to send')

  // The log of the last change's bucket loses its entries: it cannot tell what came after the cursor.
  await (await server.admin()).call('XTRIM', keys.log(bucketOf(decodePayload(third).sub as string)), 'MAXLEN', 0)
  const trimmed = await readFeed(a.url, lastId(resumed.events), (read) => read.length > 0)
  t.equal(trimmed.events[0]?.type, 'snapshot', 'a cursor whose log was trimmed gets a snapshot')
  for (const foreign of ['not a cursor', 'AQ', 'abc.5']) {
    const read = await readFeed(b.url, foreign, (events) => events.length > 0)
    t.equal(read.events[0]?.type, 'snapshot', `a foreign cursor (${foreign}) gets a snapshot`)
  }
})

for (const mode of ['mirror', 'lookup'] as const) {
  test(`Redis gone: the feed ends its readers rather than skip a change (${mode})`, async (t) => {
    const server = await RedisServer.start(t)
    const client = server.client()
    await connected(client)
    const issuer = await redisIssuer(t, client, { mode })
    let stopped = false
    // Redis stops once the reader is caught up: its stream must end, not go on without word.
    const read = readFeed(issuer.url, undefined, (events) => {
      if (!stopped && events.some((event) => event.type === 'heartbeat')) {
        stopped = true
        void server.stop()
      }
      return false
    })
    const { events: seen, ended } = await read
    t.ok(ended, 'the stream ended')
    t.equal(seen.filter((event) => event.type !== 'heartbeat').length, 1, 'after its snapshot, nothing')
  })
}

test('a Redis that stops answering without a word ends the feed\'s readers: no heartbeats without reads', async (t) => {
  const server = await RedisServer.start(t)
  const client = server.client()
  await connected(client)
  let hang = false
  // A fake only to reach a silent Redis: the commands go to the real one until told to hang.
  const issuer = await redisIssuer(t, intercepted(client, async (args, real) => hang && args[0] === 'XRANGE' ? await new Promise(() => {}) : await real()), { mode: 'lookup' })
  const { ended } = await readFeed(issuer.url, undefined, (events) => {
    hang ||= events.some((event) => event.type === 'heartbeat')
    return false
  })
  t.ok(ended, 'the stream ended once the reads were late')
})
