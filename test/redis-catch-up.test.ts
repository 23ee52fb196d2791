import { test } from 'tap'
import type { ChainableCommander, Redis } from 'ioredis'
import { redisStore, type SessionRecord } from '../lib/index'
import { bucketOf } from '../lib/stores/redis/keys'
import { messageBucket } from '../lib/stores/redis/log'
import { startRedisMirror, type RedisMirror } from '../lib/stores/redis/mirror'
import { CHANNEL, commandCalls, duringBlip, endBy, endIn, ended, intercepted, keys, readyStore, sameBucket } from './redis-log'
import { RedisServer, connected, eventually } from './redis-server'

type Teardown = { teardown (fn: () => unknown): void }

const now = (): number => Math.floor(Date.now() / 1000)

/** How many SCAN commands the server ran so far: a full load runs some, a catch-up none. */
const scans = async (admin: Redis): Promise<number> => await commandCalls(admin, 'scan')

/** A mirror on a client of its own, ready, closed after the test. */
async function mirrorOn (t: Teardown, server: RedisServer, checkMs: number, maxEntries = 1000): Promise<RedisMirror> {
  const client = server.client()
  await connected(client)
  const mirror = startRedisMirror(client, 'jwt-session:', CHANNEL, maxEntries, { overflowRetryMs: 60_000, checkMs })
  t.teardown(async () => { await mirror.close(); client.disconnect() })
  await mirror.ready()
  return mirror
}

test('a blip: logouts made meanwhile are read from the logs after the reconnect, with no full load', async (t) => {
  const server = await RedisServer.start(t)
  const admin = await server.admin()
  const store = await readyStore(t, server)
  const before = await scans(admin)
  // More than one page (1,000 entries) of one log, and a few in other buckets.
  const missed = [...sameBucket(1500), 'a', 'b', 'c']
  await duringBlip(admin, (batch) => { for (const sid of missed) endIn(batch, sid) })
  await eventually(async () => missed.every((sid) => ended(store, sid)))
  t.pass(`all ${missed.length} logouts made during the blip are honoured`)
  t.equal(await scans(admin), before, 'read from the logs: no key was scanned')
})

test('a change no message brought is found by the periodic check of the logs', async (t) => {
  const server = await RedisServer.start(t)
  const admin = await server.admin()
  const mirror = await mirrorOn(t, server, 50)
  const before = await scans(admin)
  await endBy(admin, 'unheard', 'elsewhere')
  await eventually(async () => ended(mirror, 'unheard'))
  t.equal(await scans(admin), before, 'no full load')
})

test('a message makes the mirror read its bucket\'s log at once: a change before it that no message brought is honoured', async (t) => {
  const server = await RedisServer.start(t)
  const admin = await server.admin()
  // Never checked on a timer: only the message can tell the mirror.
  const mirror = await mirrorOn(t, server, 3_600_000)
  const [unheard, heard] = sameBucket(2) as [string, string]
  await endBy(admin, unheard, 'elsewhere')
  await endBy(admin, heard)
  await eventually(async () => ended(mirror, heard) && ended(mirror, unheard))
  t.pass('the change before the skipped number is honoured too')
})

test('a log that cannot say what the mirror missed makes it load everything again', async (t) => {
  const cases: Record<string, (admin: Redis, batch: ChainableCommander, bucket: number, sids: string[]) => void> = {
    // A failover to a replica that missed the last entries: the same numbers, other entries.
    'rewritten (a failover)': (admin, batch, bucket, sids) => { batch.del(keys.log(bucket)); for (const sid of sids) endIn(batch, sid) },
    'trimmed past its place': (admin, batch, bucket, sids) => { for (const sid of sids) endIn(batch, sid); batch.xtrim(keys.log(bucket), 'MAXLEN', 0) },
    'an entry deleted by hand': (admin, batch, bucket, sids) => { for (const sid of sids) endIn(batch, sid); batch.xdel(keys.log(bucket), '0-4') },
  }
  for (const [name, damage] of Object.entries(cases)) {
    await t.test(name, async (t) => {
      const server = await RedisServer.start(t)
      const admin = await server.admin()
      const store = await readyStore(t, server)
      const [first, second, ...later] = sameBucket(8) as [string, string, ...string[]]
      for (const sid of [first, second]) await endBy(admin, sid)
      await eventually(async () => ended(store, second))
      const before = await scans(admin)
      await duringBlip(admin, (batch) => { damage(admin, batch, bucketOf(first), later) })
      await eventually(async () => later.every((sid) => ended(store, sid)))
      t.ok(await scans(admin) > before, 'the keys were loaded again')
      t.ok(ended(store, first), 'and what the copy held stays')
    })
  }
})

test('a log rewritten while the subscription stays up is caught by the periodic check', async (t) => {
  const server = await RedisServer.start(t)
  const admin = await server.admin()
  const mirror = await mirrorOn(t, server, 50)
  const [first, second] = sameBucket(2) as [string, string]
  await endBy(admin, first)
  await eventually(async () => ended(mirror, first))
  const before = await scans(admin)
  // Entry 0-1 is written again, unheard: only its stamp tells it from the one the mirror read.
  await admin.del(keys.log(bucketOf(first)))
  await endBy(admin, second, 'elsewhere')
  await eventually(async () => ended(mirror, second))
  t.ok(await scans(admin) > before, 'loaded again')
})

test('an entry in a log that is not a change of the store is read past, in its place', async (t) => {
  const server = await RedisServer.start(t)
  const admin = await server.admin()
  const mirror = await mirrorOn(t, server, 50)
  const [foreign, after] = sameBucket(2) as [string, string]
  await admin.xadd(keys.log(bucketOf(foreign)), '0-*', 'k', 's', 'i', foreign)
  await endBy(admin, after, 'elsewhere')
  await eventually(async () => ended(mirror, after))
  t.equal(mirror.session(foreign), undefined, 'the foreign entry changed nothing')
})

test('an entry with an id the store does not write is never read; the next write to that log fails closed', async (t) => {
  const server = await RedisServer.start(t)
  const admin = await server.admin()
  const store = await readyStore(t, server)
  const [first, second] = sameBucket(2) as [string, string]
  await store.end(first, now() + 60)
  await admin.xadd(keys.log(bucketOf(first)), '9-1', 'k', 's', 'i', second, 'v', 'x', 'e', String(now() + 60), 't', '1')
  const fresh = redisStore({ client: await server.admin() })
  t.teardown(async () => await fresh.close())
  await fresh.ready()
  t.equal(fresh.session(second), undefined, 'a new mirror loads and reads the logs past it')
  t.equal((fresh.session(first) as SessionRecord).ended, true)
  await t.rejects(async () => await store.end(second, now() + 60), /equal or smaller than the target stream top item/)
})

test('a log key of another type is read as an empty log: the copy stays in sync, writes to that bucket fail closed', async (t) => {
  const server = await RedisServer.start(t)
  const admin = await server.admin()
  const store = await readyStore(t, server)
  const [first, second] = sameBucket(2) as [string, string]
  await store.end(first, now() + 60)
  await admin.del(keys.log(bucketOf(first)))
  await admin.set(keys.log(bucketOf(first)), 'not a log')
  await admin.call('CLIENT', 'KILL', 'TYPE', 'pubsub')
  await endBy(admin, 'elsewhere-bucket')
  await eventually(async () => ended(store, 'elsewhere-bucket'))
  t.ok(ended(store, first), 'in sync again after the blip, the copy kept')
  await t.rejects(async () => await store.end(second, now() + 60), /WRONGTYPE/)
  const fresh = redisStore({ client: admin })
  t.teardown(async () => await fresh.close())
  await fresh.ready()
  t.ok(ended(fresh, first), 'a new mirror loads too')
})

test('a log rewritten while the mirror loads: the copy is loaded again, nothing is lost', async (t) => {
  const server = await RedisServer.start(t)
  const admin = await server.admin()
  const [first, second] = sameBucket(2) as [string, string]
  await endBy(admin, first)
  const client = server.client()
  await connected(client)
  let damaged = false
  const store = redisStore({
    client: intercepted(client, async (args, real) => {
      const answer = await real()
      // Once the end of the log was read, the log is rewritten (same number, another entry), unheard.
      if (args[0] === 'XREVRANGE' && args[1] === keys.log(bucketOf(first)) && !damaged) {
        damaged = true
        await admin.del(keys.log(bucketOf(first)))
        await endBy(admin, second, 'elsewhere')
      }
      return answer
    })
  })
  t.teardown(async () => await store.close())
  await store.ready()
  t.ok(damaged)
  t.ok(ended(store, first) && ended(store, second), 'both logouts held')
  const [third] = sameBucket(3).slice(2) as [string]
  await endBy(admin, third)
  await eventually(async () => ended(store, third))
  t.pass('and the next change continues from there')
})

test('a subscription lost while the load places the copy in a rewritten log: the next attempt loads again, nothing is skipped', async (t) => {
  const server = await RedisServer.start(t)
  const admin = await server.admin()
  const [first, second, victim] = sameBucket(3) as [string, string, string]
  await endBy(admin, first)
  const client = server.client()
  await connected(client)
  let ends = 0
  const store = redisStore({
    client: intercepted(client, async (args, real) => {
      if (args[0] === 'XREVRANGE' && args[1] === keys.log(bucketOf(first))) {
        ends++
        // Once the end of the log was read before the load, it is rewritten: same number, another entry.
        if (ends === 1) {
          const answer = await real()
          await admin.del(keys.log(bucketOf(first)))
          await endBy(admin, second, 'elsewhere')
          return answer
        }
        // While the load reads where that log ends now, the subscription drops and a logout goes unheard.
        if (ends === 2) await duringBlip(admin, (batch) => { endIn(batch, victim) })
      }
      return await real()
    })
  })
  t.teardown(async () => await store.close())
  await store.ready()
  await eventually(async () => ended(store, victim))
  t.ok(ended(store, first) && ended(store, second), 'the logout made while the copy was being placed is honoured, with the others')
})

test('a subscription that ioredis gives up is replaced', async (t) => {
  const server = await RedisServer.start(t)
  const admin = await server.admin()
  // No reconnection at all: a drop ends the connection for good.
  const client = server.client({ retryStrategy: () => null })
  await connected(client)
  const store = redisStore({ client })
  t.teardown(async () => await store.close())
  await store.ready()
  await duringBlip(admin, (batch) => { endIn(batch, 'after-the-end') })
  await eventually(async () => ended(store, 'after-the-end'))
  t.pass('a new subscription, and the logout made meanwhile read from the log')
})

test('a catch-up still under way when the store closes is not trusted', async (t) => {
  const server = await RedisServer.start(t)
  const admin = await server.admin()
  const client = server.client()
  await connected(client)
  let hold = false
  let held: () => void = () => {}
  const reading = new Promise<void>((resolve) => { held = resolve })
  let release: () => void = () => {}
  const gate = new Promise<void>((resolve) => { release = resolve })
  const store = redisStore({
    client: intercepted(client, async (args, real) => {
      if (hold && args[0] === 'XRANGE') { held(); await gate }
      return await real()
    })
  })
  await store.ready()
  hold = true
  await admin.call('CLIENT', 'KILL', 'TYPE', 'pubsub')
  await reading
  await store.close()
  release()
  await new Promise((resolve) => setTimeout(resolve, 100))
  t.throws(() => store.session('x'), /not in sync/)
})

test('checks that keep failing distrust the copy until one succeeds; one that finds more than it can hold gives way to Redis', async (t) => {
  const server = await RedisServer.start(t)
  const admin = await server.admin()
  const client = server.client()
  await connected(client)
  let failing = false
  // Log reads that fail on demand, the subscription staying up: Redis out of reach without a word.
  const flaky = intercepted(client, async (args, real) => {
    if (failing && args[0] === 'XRANGE') throw new Error('connection lost')
    return await real()
  })
  const mirror = startRedisMirror(flaky, 'jwt-session:', CHANNEL, 2, { overflowRetryMs: 60_000, checkMs: 20 })
  t.teardown(async () => { await mirror.close(); client.disconnect() })
  await mirror.ready()
  t.equal(mirror.session('x'), undefined)
  failing = true
  await eventually(async () => { try { mirror.session('x'); return false } catch { return true } })
  t.pass('distrusted (503) once no check succeeded for three periods')
  failing = false
  await eventually(async () => { try { return mirror.session('x') === undefined } catch { return false } })
  t.pass('trusted again once Redis answers')
  for (const sid of ['p', 'q', 'r']) await endBy(admin, sid, 'elsewhere')
  await eventually(async () => mirror.overflowing())
  t.pass('three entries found by the check do not fit in two: reads go to Redis')
})

test('messageBucket reads only the bucket a message names; anything else names every bucket', async (t) => {
  const good = [3, '0-7', '1795500000000000', '1795499999999999', 's', 'sid', 'x', 1_800_000_000]
  t.equal(messageBucket(JSON.stringify(good), 16), 3)
  t.equal(messageBucket(JSON.stringify([15, 'anything']), 16), 15)
  for (const message of ['not json', 'null', '[]', '[16,"0-1"]', '[-1,"0-1"]', '[1.5,"0-1"]', '["3","0-1"]', '[100,"0-1"]', ' [3,"0-1"]', '[3]']) {
    t.equal(messageBucket(message, 16), undefined, `no bucket: ${message}`)
  }
})

test('a flood of messages costs at most one outstanding read of a log, and none is believed', async (t) => {
  const server = await RedisServer.start(t)
  const admin = await server.admin()
  const mirror = await mirrorOn(t, server, 3_600_000)
  const [target, real] = sameBucket(2) as [string, string]
  const reads = await commandCalls(admin, 'xrange')
  const flood = admin.pipeline()
  for (let index = 0; index < 2000; index++) flood.publish(CHANNEL, JSON.stringify([bucketOf(target), `0-${index + 1}`, '1', '0', 's', target, 'x', 4_000_000_000]))
  await flood.exec()
  await endBy(admin, real)
  await eventually(async () => ended(mirror, real))
  const made = await commandCalls(admin, 'xrange') - reads
  t.ok(made < 2000, `2,000 messages made ${made} reads`)
  t.equal(mirror.session(target), undefined, 'the messages\' change was not applied')
})

test('a lookup waits for the read a message asked for, and fails closed when that read fails', async (t) => {
  const server = await RedisServer.start(t)
  const admin = await server.admin()
  const client = server.client()
  await connected(client)
  let failing = false
  const flaky = intercepted(client, async (args, real) => {
    if (failing && args[0] === 'XRANGE') throw new Error('connection lost')
    return await real()
  })
  const mirror = startRedisMirror(flaky, 'jwt-session:', CHANNEL, 1000, { overflowRetryMs: 60_000, checkMs: 3_600_000 })
  t.teardown(async () => { await mirror.close(); client.disconnect() })
  await mirror.ready()
  const [unheard, heard] = sameBucket(2) as [string, string]
  // A logout whose own message is lost; the next message of that bucket tells the mirror to read.
  await endBy(admin, unheard, 'elsewhere')
  failing = true
  await endBy(admin, heard)
  await eventually(async () => {
    const answer = mirror.session(unheard)
    if (!(answer instanceof Promise)) return false
    answer.catch(() => {})
    return true
  })
  await t.rejects(mirror.session(unheard) as Promise<unknown>, /connection lost/, 'Redis cannot be read: the lookup fails (503), never answers from a copy that may miss a logout')
  failing = false
  t.equal((await mirror.session(unheard))?.ended, true, 'once Redis answers, the lookup that asks reads the log')
  t.equal(mirror.subject('nobody'), undefined, 'and other buckets answer at once')
})
