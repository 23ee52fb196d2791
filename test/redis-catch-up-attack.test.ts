import { test } from 'tap'
import type { Redis } from 'ioredis'
import type { RedisClient } from '../lib/index'
import { LOG_LENGTH, bucketOf } from '../lib/stores/redis/keys'
import { startRedisMirror, type RedisMirror } from '../lib/stores/redis/mirror'
import { startReplicated } from './redis-cluster'
import { CHANNEL, commandCalls, duringBlip, endBy, endIn, ended, keys, sameBucket } from './redis-log'
import { RedisServer, connected, eventually } from './redis-server'

/*
 * Attacks on the Redis mirror's catch-up: each test states what the README promises and
 * causes, on real redis-server processes, a case where the mirror must keep that promise.
 */

type Teardown = { teardown (fn: () => unknown): void }

/**
 * A host client whose commands go to `target()` (switched by the test, as a Sentinel client
 * switches masters), and whose `duplicate()` (the mirror's subscription) connects to
 * `subscribeOn`: the two halves of a mirror on two sides of a failover, on demand.
 */
function splitClient (target: () => Redis, subscribeOn: () => Redis): RedisClient {
  return new Proxy({}, {
    get (_, property) {
      if (property === 'duplicate') return subscribeOn
      const client = target()
      const value = Reflect.get(client, property, client)
      return typeof value === 'function' ? value.bind(client) : value
    }
  }) as unknown as RedisClient
}

/** A ready mirror on `client`, never checked on a timer (the test triggers each check), closed after the test. */
async function mirrorOn (t: Teardown, client: RedisClient, checkMs = 3_600_000): Promise<RedisMirror> {
  const mirror = startRedisMirror(client, 'jwt-session:', CHANNEL, 10_000, { overflowRetryMs: 60_000, checkMs })
  t.teardown(async () => { await mirror.close() })
  await mirror.ready()
  return mirror
}

// The mirror's place in a log moves only on what it read there, never on a message: the new
// master's messages, heard while the host client still reads the old master's log, change
// nothing; once the host client reads the new master's log, its history (the chain of stamps)
// differs from the one the mirror read, and the copy is loaded again: no logout is skipped.
test('failover: the host client still on the old master while the subscription is on the new one loses no acknowledged logout', async (t) => {
  const { master: old, replica: promoted } = await startReplicated(t)
  const oldAdmin = await old.admin()
  const newAdmin = await promoted.admin()
  let host: Redis = old.client()
  await connected(host)
  const hosts = [host]
  const mirror = await mirrorOn(t, splitClient(() => host, () => promoted.client()))
  t.teardown(() => { for (const client of hosts) client.disconnect() })

  // Before the failover: written on the old master, heard through the replica (PUBLISH replicates).
  const [before, ...lostWindow] = sameBucket(6, 'old') as [string, ...string[]]
  await endBy(oldAdmin, before)
  await eventually(async () => ended(mirror, before))

  // The replica is promoted; the old master, cut off, still takes writes for a while (the documented loss window).
  await newAdmin.call('REPLICAOF', 'NO', 'ONE')
  for (const sid of lostWindow) await endBy(oldAdmin, sid)
  // The new master takes writes from the other instances, among them an acknowledged logout,
  // while the mirror's subscription is being moved over (Sentinel kills the subscriptions).
  const [first, victim, third, ...later] = sameBucket(6, 'new') as [string, string, string, ...string[]]
  await duringBlip(newAdmin, (batch) => { for (const sid of [first, victim, third]) endIn(batch, sid) })
  // The subscription is back, on the new master; the catch-up read the old master's log.
  await eventually(async () => ended(mirror, lostWindow.at(-1) as string))
  // The new master goes on: its next entries are heard, and the last one continues the number
  // the mirror holds; the log each message asks the mirror to read is still the old master's.
  for (const sid of later) await endBy(newAdmin, sid)

  // The host client moves to the new master; a check of the logs runs there.
  host = promoted.client()
  hosts.push(host)
  await connected(host)
  const reads = await commandCalls(newAdmin, 'xrange')
  await newAdmin.publish(CHANNEL, 'something else: read the logs now')
  await eventually(async () => await commandCalls(newAdmin, 'xrange') >= reads + 16 || ended(mirror, victim))
  await eventually(async () => ended(mirror, victim), 3000).catch(() => {})
  t.ok(ended(mirror, victim), 'the logout the new master acknowledged is honoured')
  t.ok(ended(mirror, first) && ended(mirror, third), 'and the others written during the switch')
  t.ok(later.every((sid) => ended(mirror, sid)), 'and those written after it')
})

// The same on one server. The README: a log "rewritten by a failover ... the copy is
// distrusted and loads everything again", even when the next message continues the numbers
// the copy holds.
test('a log rewritten while the subscription stays up: a message that continues the numbers does not hide the rewritten entries', async (t) => {
  const server = await RedisServer.start(t)
  const admin = await server.admin()
  const client = server.client()
  await connected(client)
  t.teardown(() => { client.disconnect() })
  const mirror = await mirrorOn(t, client)
  const [first, second, unheard, victim, heard] = sameBucket(5, 'sid') as [string, string, string, string, string]
  await endBy(admin, first)
  await endBy(admin, second)
  await eventually(async () => ended(mirror, second))
  // Entries 0-1 and 0-2 written again (a promoted replica that had neither), their messages
  // lost; entry 0-3 is heard, and 3 follows the 2 the mirror holds.
  const batch = admin.multi().del(keys.log(bucketOf(first)))
  endIn(batch, unheard, 'elsewhere')
  endIn(batch, victim, 'elsewhere')
  endIn(batch, heard)
  await batch.exec()
  await eventually(async () => ended(mirror, heard))
  const reads = await commandCalls(admin, 'xrange')
  await admin.publish(CHANNEL, 'something else: read the logs now')
  await eventually(async () => await commandCalls(admin, 'xrange') >= reads + 16 || ended(mirror, victim))
  await eventually(async () => ended(mirror, victim), 3000).catch(() => {})
  t.ok(ended(mirror, victim), 'the logout in the rewritten entry is honoured')
})

// Liveness: more than LOG_LENGTH writes to one bucket during every load (6,500 writes a second
// with a 25 s load of 1,000,000 entries) must not make a new instance load again and again:
// its subscription was up and heard every one of those writes.
test('writes that trim a log during every load do not keep a new mirror loading for ever', async (t) => {
  const server = await RedisServer.start(t)
  const admin = await server.admin()
  const client = server.client()
  await connected(client)
  t.teardown(() => { client.disconnect() })
  let loads = 0
  // The load's first step waits while the writes are made: as if they came in during a long load. Five loads at most.
  const slow = new Proxy(client, {
    get (target, property) {
      if (property === 'eval') {
        return async (...args: unknown[]) => {
          if (String(args[0]).includes("redis.call('SCAN'") && args[2] === '0' && ++loads <= 5) {
            const batch = admin.pipeline()
            for (const sid of sameBucket(LOG_LENGTH + 500, `busy-${loads}`)) endIn(batch, sid)
            await batch.exec()
          }
          return await (target.eval as (...a: unknown[]) => Promise<unknown>)(...args)
        }
      }
      const value = Reflect.get(target, property, target)
      return typeof value === 'function' ? value.bind(target) : value
    }
  }) as unknown as RedisClient
  const mirror = startRedisMirror(slow, 'jwt-session:', CHANNEL, 1_000_000, { overflowRetryMs: 60_000, checkMs: 3_600_000 })
  t.teardown(async () => { await mirror.close() })
  await mirror.ready()
  t.ok(loads >= 1 && loads <= 2, `ready after ${Math.min(loads, 5)} loads (writes stop after the fifth)`)
})
