import { test } from 'tap'
import type { Redis } from 'ioredis'
import { redisStore, type SessionEntry } from '../lib/index'
import { bucketOf, storeKeys } from '../lib/stores/redis/keys'
import { fakeClock } from './helpers'
import { MINIMAL_ACL } from './redis-acl'
import { RedisServer, connected, eventually } from './redis-server'
import { storeOn } from './redis-stores'

const keys = storeKeys('jwt-session:')
const now = (): number => Math.floor(Date.now() / 1000)
/** A login time in microseconds, `offset` µs from now: sessions ordered by it. */
const micros = (offset = 0): number => Date.now() * 1000 + offset

/** A live session's entry: logged in `createdAt`, last seen `lastSeenAt` (µs), usable for `life` seconds. */
function entry (sid: string, createdAt: number, lastSeenAt = createdAt, life = 3600): SessionEntry {
  return { sid, createdAt, lastSeenAt, expiresAt: now() + life, ip: '192.0.2.1', userAgent: `agent of ${sid}` }
}

/** The sids of entries, sorted. */
const sidsOf = (entries: readonly SessionEntry[]): string[] => entries.map((e) => e.sid).sort()

/** The second a key expires at, by this process' clock. */
async function expiryOf (redis: Redis, key: string): Promise<number> {
  return Math.ceil((Date.now() + Number(await redis.pttl(key))) / 1000)
}

test('the registry on a real Redis', async (t) => {
  const server = await RedisServer.start(t)
  const redis = await server.admin()
  const store = await storeOn(t, server, { mode: 'lookup' })
  const registry = store.registry

  t.test('add lists sessions and answers the least recently used past max; the new one is never among them', async (t) => {
    const base = micros()
    t.same(await registry.add('u-add', entry('a', base, base + 30), 3), [])
    t.same(await registry.add('u-add', entry('b', base + 1, base + 10), 3), [])
    t.same(await registry.add('u-add', entry('c', base + 2, base + 20), 3), [])
    t.same(sidsOf(await registry.list('u-add')), ['a', 'b', 'c'])
    const evicted = await registry.add('u-add', entry('d', base + 3, base + 40), 3)
    t.same(evicted, [entry('b', base + 1, base + 10)], 'the smallest lastSeenAt, the whole entry answered')
    t.same(sidsOf(await registry.list('u-add')), ['a', 'c', 'd'])
    t.same(sidsOf(await registry.add('u-add', entry('e', base + 4, base + 50), 2)), ['a', 'c'], 'a smaller max removes as many as needed, least recent first')
    // An instance whose clock is behind stamps an older lastSeenAt: the session in use now stays.
    t.same(sidsOf(await registry.add('u-add', entry('f', base + 5, base - 99), 2)), ['d'])
    t.same(sidsOf(await registry.list('u-add')), ['e', 'f'])
    t.same(await registry.add('u-add', { ...entry('f', base + 5, base + 60), ip: '198.51.100.7' }, 2), [], 'the same sid again replaces its entry')
    const listed = await registry.list('u-add')
    t.same(listed.find((e) => e.sid === 'f'), { ...entry('f', base + 5, base + 60), ip: '198.51.100.7' }, 'microseconds and strings read back exactly')
    t.equal(listed.length, 2)
    t.same(await registry.list('nobody'), [], 'a user with no registry lists nothing')
  })

  t.test('touch replaces what a renewal changes; an unlisted sid is not listed again', async (t) => {
    const base = micros()
    await registry.add('u-touch', entry('a', base), 5)
    await registry.touch('u-touch', { sid: 'a', createdAt: 1, lastSeenAt: base + 99, expiresAt: now() + 7200, ip: '203.0.113.9', userAgent: 'new agent' })
    t.same(await registry.list('u-touch'), [{ sid: 'a', createdAt: base, lastSeenAt: base + 99, expiresAt: now() + 7200, ip: '203.0.113.9', userAgent: 'new agent' }], 'createdAt is the login\'s, kept')
    await registry.touch('u-touch', entry('gone', base))
    t.same(sidsOf(await registry.list('u-touch')), ['a'])
    await registry.touch('u-untouched', entry('x', base))
    t.equal(await redis.exists(keys.registry('u-untouched')), 0, 'a touch of a user with no registry writes nothing')
  })

  t.test('list answers only entries whose expiresAt has not passed; a write drops the expired ones', async (t) => {
    // The app's clock held at the start of a second: "this second" is the same one throughout.
    fakeClock(t)
    const base = micros()
    await registry.add('u-list', entry('old', base, base, -5), 5)
    await registry.add('u-list', entry('now', base + 1, base + 1, 0), 5)
    await registry.add('u-list', entry('new', base + 2), 5)
    t.same(sidsOf(await registry.list('u-list')), ['new', 'now'], 'expired a few seconds ago: not listed; this second: still usable')
    t.notOk(String(await redis.get(keys.registry('u-list'))).includes('"old"'), 'the expired entry is gone from Redis at the next write')
  })

  t.test('ended moves a session out of the live ones; past max, the oldest ended fold into a cut-off with every live session at or before it, dropped once the cut-off is held', async (t) => {
    const base = micros()
    const sub = 'u-ended'
    for (const [sid, offset] of [['a', 0], ['b', 10], ['c', 20], ['d', 30], ['e', 40]] as const) await registry.add(sub, entry(sid, base + offset), 10)
    t.equal(await registry.ended(sub, 'b', base + 10, now() + 60, 2), undefined, 'one ended: nothing to fold')
    t.same(sidsOf(await registry.list(sub)), ['a', 'c', 'd', 'e'])
    t.equal(await registry.ended(sub, 'd', base + 30, now() + 60, 2), undefined)
    t.equal(await registry.ended(sub, 'd', base + 30, now() + 60, 2), undefined, 'the same end again counts once')
    // Ended: b (10), d (30), gone (35): the oldest past 2 is b, cut-off 10, which also covers live a (0).
    const first = await registry.ended(sub, 'gone', base + 35, now() + 60, 2)
    t.same(first, { cutoff: base + 10, sids: ['b', 'a'] }, 'a third past max of 2 folds')
    const ended = async (): Promise<string[]> => JSON.parse(String(await redis.get(keys.registry(sub)))).x.map((e: unknown[]) => e[0]).sort()
    t.same(sidsOf(await registry.list(sub)), ['a', 'c', 'e'], 'live a stays listed until the cut-off is recorded')
    t.same(await ended(), ['b', 'd', 'gone'])
    await registry.forget(sub, ['b', 'a'])
    t.same(sidsOf(await registry.list(sub)), ['a', 'c', 'e'], 'forget without a cut-off of the user: nothing dropped')
    await store.endSubject(sub, base + 10, now() + 60)
    await registry.forget(sub, ['b', 'a', 'c', 'never-listed'])
    t.same(sidsOf(await registry.list(sub)), ['c', 'e'], 'once it is held: a gone; c, logged in after it, stays though named')
    t.same(await ended(), ['d', 'gone'], 'two ended ones left')
    const fold = await registry.ended(sub, 'e', base + 40, now() + 60, 1)
    t.same(fold, { cutoff: base + 35, sids: ['d', 'gone', 'c'] }, 'the cut-off is the newest login folded; ended ones first (by login), then live ones')
    await store.endSubject(sub, base + 35, now() + 60)
    await registry.forget(sub, fold?.sids ?? [])
    t.same(await registry.list(sub), [])
    t.same(await ended(), ['e'])
  })

  t.test('ended: a tie at the cut-off folds both; ids that look like numbers stay strings', async (t) => {
    const base = micros()
    await registry.ended('u-tie', '1', base, now() + 60, 5)
    await registry.ended('u-tie', '2', base, now() + 60, 5)
    t.same(await registry.ended('u-tie', '3', base + 1, now() + 60, 1), { cutoff: base, sids: ['1', '2'] })
  })

  t.test('each user\'s key lives until its last entry can no longer matter, the later lifetime kept, then is gone', async (t) => {
    const base = micros()
    await registry.add('u-ttl', entry('a', base, base, 100), 5)
    t.ok(Math.abs(await expiryOf(redis, keys.registry('u-ttl')) - (now() + 100)) <= 1, 'a relative lifetime, to the entry\'s expiresAt')
    await registry.ended('u-ttl', 'z', base, now() + 300, 5)
    t.ok(Math.abs(await expiryOf(redis, keys.registry('u-ttl')) - (now() + 300)) <= 1, 'an ended one that lasts longer lengthens it')
    await registry.add('u-ttl', entry('b', base + 1, base + 1, 10), 5)
    t.ok(Math.abs(await expiryOf(redis, keys.registry('u-ttl')) - (now() + 300)) <= 1, 'never shortened')
    await registry.add('u-short', entry('a', base, base, 1), 5)
    await eventually(async () => await redis.exists(keys.registry('u-short')) === 0)
    t.pass('gone once its last entry expired')
  })

  t.test('forget drops the revocations of sessions a cut-off covers, in every bucket; without a cut-off, nothing', async (t) => {
    const sids = Array.from({ length: 12 }, (_, index) => `${index}-forget`)
    t.ok(new Set(sids.map(bucketOf)).size > 3, 'sessions in several buckets')
    const base = micros()
    for (const [index, sid] of sids.entries()) {
      await store.end(sid, now() + 600)
      await registry.ended('u-forget', sid, base + index, now() + 600, 100)
    }
    await registry.forget('u-forget', sids)
    t.equal(await redis.exists(sids.map((sid) => keys.session(sid))), sids.length, 'no cut-off recorded for the user: every revocation kept')
    // A cut-off that covers the first ten.
    await store.endSubject('u-forget', base + 9, now() + 600)
    await registry.forget('u-forget', ['never-written'])
    t.equal(await redis.exists(sids.map((sid) => keys.session(sid))), sids.length, 'a session the registry does not hold: nothing forgotten')
    await registry.forget('u-forget', [...sids.slice(0, 11), '0-forget', 'never-written'])
    t.equal(await redis.exists(sids.slice(0, 10).map((sid) => keys.session(sid))), 0, 'forgotten')
    t.equal(await redis.exists(sids.slice(10).map((sid) => keys.session(sid))), 2, 'the others kept, the one named but logged in after the cut-off too')
    t.equal(await store.subject('u-forget') !== undefined, true, 'the cut-off stays')
    // A cut-off key whose value the store did not write (reads refuse every token by it) forgets nothing.
    await redis.set(keys.subject('u-garbled'), 'not a time')
    await registry.forget('u-garbled', sids.slice(10))
    t.equal(await redis.exists(sids.slice(10).map((sid) => keys.session(sid))), 2, 'a garbled cut-off: every revocation kept')
  })

  t.test('subs with braces, and ones that UTF-8 cannot carry, get keys of their own under a tag they cannot move', async (t) => {
    const subs = ['}', '{', '{}', 'a}b{c', 'u-{x}', 'u-\uD800', '']
    const names = subs.map((sub) => keys.registry(sub))
    t.equal(new Set(names).size, subs.length, 'one key each')
    for (const name of names) t.match(name, /^jwt-session:r:\{u:[0-9a-f]{8}\}/, `${JSON.stringify(name)}: its tag is 8 hex digits`)
    const base = micros()
    for (const [index, sub] of subs.entries()) await registry.add(sub, entry(`s${index}`, base), 5)
    for (const [index, sub] of subs.entries()) t.same(sidsOf(await registry.list(sub)), [`s${index}`], `${JSON.stringify(sub)} lists its own`)
  })

  t.test('a malformed value read back is no entry: list skips it, a write replaces it; a key of another type fails the write', async (t) => {
    const good = ['ok', '5', '6', now() + 60, 'ip', 'ua']
    const values: Array<[string, string[]]> = [
      ['not json', []],
      ['null', []],
      ['42', []],
      ['[1,2]', []],
      ['{"l":"x"}', []],
      ['{"l":{}}', []],
      [JSON.stringify({
        l: [good, 'x', [1, '5', '6', now() + 60, 'ip', 'ua'], ['s', 5, '6', now() + 60, 'ip', 'ua'], ['s', '5x', '6', now() + 60, 'ip', 'ua'],
          ['s', '5', 6, now() + 60, 'ip', 'ua'], ['s', '5', '123456789012345678', now() + 60, 'ip', 'ua'], ['s', '5', '6', '60', 'ip', 'ua'],
          ['s', '5', '6', 1.5, 'ip', 'ua'], ['s', '5', '6', now() + 60, 7, 'ua'], ['s', '5', '6', now() + 60, 'ip', null]],
        x: ['y', ['e', 5, now() + 60], ['e', '5', 'soon']]
      }), ['ok']]
    ]
    for (const [index, [value, listed]] of values.entries()) {
      const sub = `u-bad-${index}`
      await redis.set(keys.registry(sub), value, 'EX', 60)
      t.same(sidsOf(await registry.list(sub)), listed, `${value.slice(0, 20)}: ${listed.length} listed`)
      t.same(await registry.add(sub, entry('fresh', micros()), 5), [], 'a write reads it as the scripts do')
      t.same(sidsOf(await registry.list(sub)), [...listed, 'fresh'].sort())
      t.equal(await registry.ended(sub, 'fresh', micros(), now() + 60, 0) !== undefined, true, 'malformed ended ones are not counted')
    }
    await redis.hset(keys.registry('u-hash'), 'l', '[]')
    t.same(await registry.list('u-hash'), [], 'a key of another type is not the store\'s: read past')
    await t.rejects(registry.add('u-hash', entry('a', micros()), 5), /WRONGTYPE/, 'and never overwritten')
    t.equal(await redis.type(keys.registry('u-hash')), 'hash')
  })

  t.test('the mirror does not copy the registry', async (t) => {
    const mirror = await storeOn(t, server)
    await mirror.registry.add('u-mirror', entry('m', micros()), 5)
    const other = await storeOn(t, server)
    t.same(sidsOf(await other.registry.list('u-mirror')), ['m'], 'a store loaded after it reads it from Redis')
    t.equal(other.session('m'), undefined, 'and holds no session for it')
  })
})

test('Redis down: every method of the registry rejects', async (t) => {
  const server = await RedisServer.start(t)
  const store = await storeOn(t, server)
  await store.registry.add('u', entry('a', micros()), 5)
  await server.stop()
  const registry = store.registry
  await t.rejects(registry.add('u', entry('b', micros()), 5))
  await t.rejects(registry.touch('u', entry('a', micros())))
  await t.rejects(registry.list('u'))
  await t.rejects(registry.ended('u', 'a', micros(), now() + 60, 5))
  await t.rejects(registry.forget('u', ['a']))
})

test('before Redis passed the start-up check, list fails closed at once', async (t) => {
  const server = await RedisServer.start(t)
  const client = server.client()
  const store = redisStore({ client, mode: 'lookup' })
  t.teardown(async () => await store.close())
  await t.rejects(Promise.resolve(store.registry.list('u')), /not been checked/)
})

test('the README\'s minimal ACL is enough for the registry: no new command', async (t) => {
  const server = await RedisServer.start(t)
  await (await server.admin()).call('ACL', 'SETUSER', 'app', 'on', '>app-password', ...MINIMAL_ACL)
  const client = server.client({ username: 'app', password: 'app-password' })
  await connected(client)
  const limited = redisStore({ client, mode: 'lookup' })
  t.teardown(async () => await limited.close())
  await limited.ready()
  const base = micros()
  await limited.registry.add('u', entry('a', base), 1)
  t.same(sidsOf(await limited.registry.add('u', entry('b', base + 1), 1)), ['a'])
  await limited.registry.touch('u', entry('b', base + 1, base + 5))
  await limited.registry.ended('u', 'a', base, now() + 60, 1)
  const fold = await limited.registry.ended('u', 'b', base + 1, now() + 60, 1)
  t.same(fold, { cutoff: base, sids: ['a'] })
  await limited.end('a', now() + 60)
  await limited.endSubject('u', base, now() + 60)
  await limited.registry.forget('u', ['a'])
  t.equal(await limited.session('a'), undefined, 'forgotten with PEXPIRE, which the ACL grants')
  t.same(await limited.registry.list('u'), [])
})
