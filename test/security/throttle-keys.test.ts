import { test } from 'tap'
import type { FastifyInstance } from 'fastify'
import type { Redis } from 'ioredis'
import { redisStore, type AttemptCounter } from '../../lib/index'
import { memoryAttempts } from '../../lib/stores/memory/attempts'
import { redisAttempts } from '../../lib/stores/redis/attempts'
import { addressKey, loginKey } from '../../lib/throttle/login-throttle'
import { buildApp } from '../helpers'
import { RedisServer, connected } from '../redis-server'

/*
 * Finding: a failed login was counted under its login name before its address; when the
 * address refused it, the name's count was given back with DECR, which left a key at 0 with
 * its 15-minute expiry. 20,000 failed logins from one address (19,900 of them answered 429)
 * left 20,001 keys; with `maxmemory` and `noeviction` Redis filled, and every other user's
 * login, logout and renewal got 503. One address must never hold more than its limit + 1
 * keys per window, and an attempt given back must leave nothing behind.
 */

/** Failed logins sent from one address, each under a login name of its own. */
const FLOOD = 2_000
/** The default `perAddress.max`: the failures one address gets per window. */
const PER_ADDRESS = 100
const ATTACKER = '203.0.113.66'
const PREFIX = 'jwt-session:attempts:'

/** A login attempt; answers the status. */
async function attempt (app: FastifyInstance, login: string, password: string, address: string): Promise<number> {
  return (await app.inject({ method: 'POST', url: '/@login', payload: { login, password }, remoteAddress: address })).statusCode
}

/** `FLOOD` wrong passwords from `address`, each for a new login name; answers how many got each status. */
async function flood (app: FastifyInstance, address = ATTACKER): Promise<Record<number, number>> {
  const statuses: Record<number, number> = {}
  for (let i = 0; i < FLOOD; i++) {
    const status = await attempt(app, `victim-${i}`, 'wrong', address)
    statuses[status] = (statuses[status] ?? 0) + 1
  }
  return statuses
}

/** Every attempt counter key in Redis, by `SCAN` (as an operator would look). */
async function counterKeys (redis: Redis): Promise<string[]> {
  const keys: string[] = []
  let cursor = '0'
  do {
    const [next, batch] = await redis.scan(cursor, 'MATCH', `${PREFIX}*`, 'COUNT', 1000)
    keys.push(...batch)
    cursor = next
  } while (cursor !== '0')
  return keys
}

/** A Redis store on a fresh server, and a plain client to look at its keys. */
async function redisSetup (t: { teardown (fn: () => unknown): void }): Promise<{ store: ReturnType<typeof redisStore>, redis: Redis }> {
  const server = await RedisServer.start(t)
  const client = server.client()
  await connected(client)
  const store = redisStore({ client })
  t.teardown(async () => await store.close())
  return { store, redis: await server.admin() }
}

test('Redis: 2,000 failed logins from one address with distinct names leave at most limit + 1 counter keys', async (t) => {
  const { store, redis } = await redisSetup(t)
  const app = await buildApp(t, { revocationStore: store })
  const sizeBefore = await redis.dbsize()
  t.same(await counterKeys(redis), [], 'no counter before')

  const statuses = await flood(app)
  t.same(statuses, { 401: PER_ADDRESS, 429: FLOOD - PER_ADDRESS }, 'the address limit holds')
  const keys = await counterKeys(redis)
  t.ok(keys.length <= PER_ADDRESS + 1, `at most ${PER_ADDRESS + 1} counter keys (found ${keys.length})`)
  t.ok(await redis.dbsize() - sizeBefore <= PER_ADDRESS + 1, 'DBSIZE grew by at most limit + 1')
  t.ok(keys.includes(PREFIX + addressKey(ATTACKER)), 'the address is counted')
  t.equal(await redis.get(PREFIX + addressKey(ATTACKER)), String(PER_ADDRESS))
  const counts = keys.length === 0 ? [] : await redis.mget(...keys)
  t.notOk(counts.includes('0'), 'no key is left at 0')
  t.equal(await redis.exists(PREFIX + loginKey(`victim-${FLOOD - 1}`)), 0, 'a name refused by the address was never counted')

  t.equal(await attempt(app, 'bob', 'builder', '198.51.100.20'), 200, 'another user logs in')
  t.equal((await counterKeys(redis)).length, keys.length, 'and the given-back success left no key')
})

test('memory: 2,000 failed logins from one address with distinct names leave at most limit + 1 windows', async (t) => {
  const counter = memoryAttempts()
  const app = await buildApp(t, { loginThrottle: { counter } })
  t.equal(counter.size, 0)
  t.same(await flood(app), { 401: PER_ADDRESS, 429: FLOOD - PER_ADDRESS })
  t.ok(counter.size <= PER_ADDRESS + 1, `at most ${PER_ADDRESS + 1} windows (found ${counter.size})`)
  const size = counter.size
  t.equal(await attempt(app, 'bob', 'builder', '198.51.100.20'), 200)
  t.equal(counter.size, size, 'a successful login leaves no window behind')
})

/** The calls a counter received, as `take key` / `release key`. */
type Calls = string[]

/** A host's own counter over the memory one, synchronous or asynchronous, that records its calls. */
function recordingCounter (asynchronous: boolean): { counter: AttemptCounter, calls: Calls, size: () => number } {
  const inner = memoryAttempts()
  const calls: Calls = []
  const take = (key: string, limit: number, windowMs: number): number => { calls.push(`take ${key}`); return inner.take(key, limit, windowMs) as number }
  const release = (key: string): void => { calls.push(`release ${key}`); inner.release(key) }
  const counter: AttemptCounter = asynchronous
    ? { take: async (key, limit, windowMs) => take(key, limit, windowMs), release: async (key) => release(key) }
    : { take, release }
  return { counter, calls, size: () => inner.size }
}

for (const mode of ['synchronous', 'asynchronous'] as const) {
  test(`a host's ${mode} counter: an attempt refused by the address touches nothing else`, async (t) => {
    const { counter, calls, size } = recordingCounter(mode === 'asynchronous')
    const app = await buildApp(t, { loginThrottle: { counter } })
    t.same(await flood(app), { 401: PER_ADDRESS, 429: FLOOD - PER_ADDRESS })
    t.ok(size() <= PER_ADDRESS + 1, `at most ${PER_ADDRESS + 1} keys (found ${size()})`)
    calls.length = 0
    t.equal(await attempt(app, 'carol', 'wrong', ATTACKER), 429)
    t.same(calls, [`take ${addressKey(ATTACKER)}`], 'only the address was asked')
  })

  test(`a host's ${mode} counter: an attempt refused by its login name gives back its address count`, async (t) => {
    const { counter, calls, size } = recordingCounter(mode === 'asynchronous')
    const app = await buildApp(t, { loginThrottle: { counter } })
    for (let i = 0; i < 10; i++) t.equal(await attempt(app, 'alice', 'wrong', '198.51.100.30'), 401)
    const before = size()
    calls.length = 0
    t.equal(await attempt(app, 'alice', 'wonderland', ATTACKER), 429, 'the name is held back')
    const address = addressKey(ATTACKER)
    t.same(calls, [`take ${address}`, `take ${loginKey('alice')}`, `release ${address}`], 'the address count was given back')
    t.equal(size(), before, 'and left no key')
  })
}

test('Redis: an attempt given back leaves no key, whether refused by its name or a success', async (t) => {
  const { store, redis } = await redisSetup(t)
  const app = await buildApp(t, { revocationStore: store })
  t.equal(await attempt(app, 'bob', 'builder', '198.51.100.40'), 200)
  t.same(await counterKeys(redis), [], 'a successful login leaves nothing behind')

  for (let i = 0; i < 10; i++) t.equal(await attempt(app, 'alice', 'wrong', '198.51.100.41'), 401)
  t.equal(await attempt(app, 'alice', 'wonderland', '198.51.100.42'), 429)
  t.equal(await redis.exists(PREFIX + addressKey('198.51.100.42')), 0, 'the address of an attempt its name refused is not counted')
  t.equal(await redis.get(PREFIX + addressKey('198.51.100.41')), '10')
})

test('the counters: a count given back to zero drops its key; a count above zero keeps its window', async (t) => {
  const { redis } = await redisSetup(t)
  const counter = redisAttempts(redis, 'jwt-session:')
  const key = loginKey('dave')
  t.equal(await counter.take(key, 10, 60_000), 0)
  t.equal(await counter.take(key, 10, 60_000), 0)
  await counter.release(key)
  t.equal(await redis.get(PREFIX + key), '1', 'one attempt still counted')
  t.ok(await redis.pttl(PREFIX + key) > 0, 'in its window')
  await counter.release(key)
  t.equal(await redis.exists(PREFIX + key), 0, 'given back to zero: no key')
  await counter.release(key)
  t.equal(await redis.exists(PREFIX + key), 0, 'giving back what is not counted creates nothing')

  const memory = memoryAttempts()
  t.equal(memory.take(key, 10, 60_000), 0)
  t.equal(memory.size, 1)
  memory.release(key)
  t.equal(memory.size, 0, 'the memory counter drops the window too')
})
