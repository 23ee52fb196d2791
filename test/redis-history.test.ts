import { test } from 'tap'
import { redisStore, type RevocationChange } from '../lib/index'
import { decodeCursor, encodeCursor, prefixFingerprint } from '../lib/stores/redis/cursor'
import { BUCKETS, bucketOf } from '../lib/stores/redis/keys'
import { redisHistory } from '../lib/stores/redis/history'
import { startRedisMirror } from '../lib/stores/redis/mirror'
import { CHANNEL, endBy, intercepted, keys, sameBucket } from './redis-log'
import { connected, RedisServer } from './redis-server'
import { eventually } from './feed-helpers'
import { storeOn } from './redis-stores'

/*
 * The Redis store's history, asked directly: its cursors, the order and paging of its
 * changes, entries that are not the store's, its snapshot in each mode, and its watchers.
 */

const now = (): number => Math.floor(Date.now() / 1000)

const ids = (changes: readonly RevocationChange[] | undefined): string[] | undefined => changes?.map((change) => change.kind === 'session' ? change.sid : change.sub)

test('cursors: compact, and anything else is unknown', async (t) => {
  const fingerprint = prefixFingerprint('jwt-session:')
  const places = Array.from({ length: BUCKETS }, (_, bucket) => ({ seq: bucket * 1000, stamp: bucket === 0 ? '' : String(1_780_000_000_000_000 + bucket) }))
  const cursor = encodeCursor(fingerprint, places)
  t.ok(cursor.length < 240, `${cursor.length} characters`)
  t.same(decodeCursor(fingerprint, cursor), places, 'read back exactly')
  const texts = [{ seq: 1, stamp: 'abc' }, { seq: 2, stamp: '0123' }, { seq: 3, stamp: 'é'.repeat(32) }, { seq: 4, stamp: 'x'.repeat(65) }]
  t.same(decodeCursor(fingerprint, encodeCursor(fingerprint, [...texts, ...places.slice(4)]))?.slice(0, 4),
    [...texts.slice(0, 3), { seq: 4, stamp: '' }], 'a stamp the store did not write is kept as its text, up to 64 bytes (longer, as none: it then matches no stamp)')
  const bytes = Buffer.from(cursor, 'base64url')
  // The version and the fingerprint of an empty cursor (16 places of two zero bytes), then `rest`.
  const header = Buffer.from(encodeCursor(fingerprint, Array.from({ length: BUCKETS }, () => ({ seq: 0, stamp: '' }))), 'base64url').subarray(0, -2 * BUCKETS)
  const withHeader = (rest: number[]): string => Buffer.concat([header, Buffer.from(rest)]).toString('base64url')
  t.equal(decodeCursor(fingerprint, withHeader(Array<number>(2 * BUCKETS).fill(0)))?.length, BUCKETS, 'the header is right')
  const refused = {
    'not base64url': 'a.b',
    'another version': Buffer.from([2, ...bytes.subarray(1)]).toString('base64url'),
    'another prefix': encodeCursor(prefixFingerprint('other:'), places),
    'cut short': bytes.subarray(0, bytes.length - 1).toString('base64url'),
    'a byte too many': Buffer.concat([bytes, Buffer.from([0])]).toString('base64url'),
    'a varint too long': Buffer.from([1, ...Array<number>(9).fill(0xff)]).toString('base64url'),
    'a number past 2^53': Buffer.from([1, ...Array<number>(7).fill(0xff), 0x7f]).toString('base64url'),
    'a stamp cut short': withHeader([1, 1, 3, 0x61]),
    'a stamp too long': withHeader([1, 1, 65, ...Buffer.from('x'.repeat(65))]),
    'a stamp missing': withHeader([1]),
    'a stamp\'s length missing': withHeader([1, 1])
  }
  for (const [name, foreign] of Object.entries(refused)) t.equal(decodeCursor(fingerprint, foreign), undefined, name)
})

test('changes: in order across the buckets, a page at a time, past entries that are not the store\'s', async (t) => {
  const server = await RedisServer.start(t)
  const admin = await server.admin()
  const made = await storeOn(t, server, { mode: 'lookup' })
  const history = made.history
  const start = (await history.snapshot()).cursor
  t.same(await history.changesSince(start, 10), [], 'nothing yet')
  const [first, second, third] = sameBucket(3)
  await made.end(first as string, now() + 600)
  // An entry someone else added in the store's ids: passed over, neither a change nor a stop.
  await admin.call('XADD', keys.log(3), '0-*', 'note', 'not ours')
  await endBy(admin, 'elsewhere')
  await endBy(admin, second as string)
  await endBy(admin, third as string)
  const all = await history.changesSince(start, 100)
  t.same(ids(all), [first, 'elsewhere', second, third], 'oldest first, across buckets')
  t.ok(bucketOf('elsewhere') !== 3)
  t.same(all?.[0], { cursor: all?.[0]?.cursor, kind: 'session', sid: first, record: { generation: 0, renewedAt: 0, ended: true }, expiresAt: all?.[0]?.expiresAt })
  t.ok(Math.abs((all?.[0]?.expiresAt as number) - (now() + 600)) <= 2, 'the expiry the entry implies')
  const paged = await history.changesSince(start, 2)
  t.same(ids(paged), [first, 'elsewhere'], 'a page')
  t.same(ids(await history.changesSince(paged?.at(-1)?.cursor as string, 2)), [second, third], 'the next page, past the entry not ours')
  t.same(await history.changesSince(all?.at(-1)?.cursor as string, 0), [], 'a probe of the last cursor')
  // Trailing entries not ours move no cursor: a resume reads them again, and passes them over.
  await admin.call('XADD', keys.log(3), '0-*', 't', 'x')
  t.same(await history.changesSince(all?.at(-1)?.cursor as string, 10), [])
  const after = (await history.snapshot()).cursor
  t.same(await history.changesSince(after, 10), [], 'a log ending with an entry whose stamp is not ours is resumed from all the same')
})

test('snapshot: the mirror\'s copy when trusted, else every key; what is written since comes from its cursor', async (t) => {
  const server = await RedisServer.start(t)
  const admin = await server.admin()
  await endBy(admin, 'gone')
  const mirror = await storeOn(t, server)
  await mirror.renew('renewed', 0, 1_780_000_000_000_000, now() + 600)
  await mirror.endSubject('bob', 1_780_000_000_000_001, now() + 600)
  const lookup = await storeOn(t, server, { mode: 'lookup' })
  const small = await storeOn(t, server, { maxEntries: 1 })
  for (const [name, history] of Object.entries({ mirror: mirror.history, lookup: lookup.history, 'a mirror past its capacity': small.history })) {
    const snapshot = await history.snapshot()
    // Changes of the earlier rounds are in Redis too.
    const sessions = snapshot.sessions.filter(([sid]) => !sid.startsWith('after-')).sort((x, y) => x[0] < y[0] ? -1 : 1).map(([sid, generation, renewedAt, ended]) => [sid, generation, renewedAt, ended])
    t.same(sessions, [['gone', 0, 0, 1], ['renewed', 1, 1_780_000_000_000_000, 0]], `${name}: sessions`)
    t.same(snapshot.subjects.map(([sub, cutoff]) => [sub, cutoff]), [['bob', 1_780_000_000_000_001]], `${name}: users`)
    t.ok([...snapshot.sessions.filter(([sid]) => sid === 'renewed'), ...snapshot.subjects].every((entry) => Math.abs((entry.at(-1) as number) - (now() + 600)) <= 2), `${name}: expiries`)
    await endBy(admin, `after-${name}`)
    t.equal(ids(await history.changesSince(snapshot.cursor, 10))?.at(-1), `after-${name}`, `${name}: a change since comes from its cursor`)
    t.ok(await eventually(async () => (await history.changesSince((await history.snapshot()).cursor, 10))?.length === 0), `${name}: a snapshot's cursor catches up`)
  }
})

test('before Redis passed its check the history answers nothing', async (t) => {
  const server = await RedisServer.start(t)
  const client = server.client()
  const early = redisStore({ client, mode: 'lookup' })
  t.teardown(async () => await early.close())
  await t.rejects(Promise.resolve(early.history.snapshot()), /not been checked/)
  await t.rejects(Promise.resolve(early.history.changesSince('x', 1)), /not been checked/)
})

for (const mode of ['mirror', 'lookup'] as const) {
  test(`watchers are woken by the store's messages, on the mirror's subscription or one of the history's own (${mode})`, async (t) => {
    const server = await RedisServer.start(t)
    const admin = await server.admin()
    const client = server.client()
    await connected(client)
    const mirror = mode === 'mirror' ? startRedisMirror(client, 'jwt-session:', CHANNEL, 100) : undefined
    t.teardown(async () => await mirror?.close())
    // No timer within the test: only a message wakes the watcher.
    const history = redisHistory({ client, prefix: 'jwt-session:', keys, channel: CHANNEL, assert: () => {}, mirror, checkMs: 3_600_000 })
    t.teardown(() => { history.close() })
    let woken = 0
    const unwatch = history.view.watch(() => { woken++ })
    t.ok(await eventually(async () => {
      await endBy(admin, 'heard', CHANNEL)
      return woken > 0
    }), 'a message of another instance')
    unwatch()
    const subscribers = async (): Promise<number> => Number((await admin.call('PUBSUB', 'NUMSUB', CHANNEL) as [string, number])[1])
    t.ok(await eventually(async () => await subscribers() === (mode === 'mirror' ? 1 : 0)), 'the history\'s own subscription is closed with its last watcher')
  })
}

test('watchers are woken by the store\'s own writes and by a timer; none once closed', async (t) => {
  const server = await RedisServer.start(t)
  const admin = await server.admin()
  const made = await storeOn(t, server, { mode: 'lookup' })
  let woken = 0
  const unwatch = made.history.watch(() => { woken++ })
  const other = made.history.watch(() => {})
  const before = woken
  await made.end('mine', now() + 60)
  t.ok(woken > before, 'its own write, at once')
  const quiet = woken
  await endBy(admin, 'unheard', 'nobody-listens')
  t.ok(await eventually(async () => woken > quiet), 'a change no message told of: the timer')
  other()
  unwatch()
  unwatch()
  const stopped = woken
  await made.end('later', now() + 60)
  t.equal(woken, stopped, 'an unwatched listener is not called')
  const again = made.history.watch(() => { woken++ })
  await made.close()
  made.history.watch(() => { woken++ })()
  await Promise.resolve(made.end('closed', now() + 60)).catch(() => {})
  t.equal(woken, stopped, 'closed: nobody is woken')
  again()
})

test('a read of the logs that hangs fails: the feed must not go on with heartbeats alone', async (t) => {
  const server = await RedisServer.start(t)
  const client = server.client()
  await connected(client)
  let hang = false
  // A fake only to reach the deadline: the commands still go to the real Redis until told to hang.
  const hanging = intercepted(client, async (args, real) => hang && args[0] === 'XRANGE' ? await new Promise(() => {}) : await real())
  const history = redisHistory({ client: hanging, prefix: 'jwt-session:', keys, channel: CHANNEL, assert: () => {}, mirror: undefined, deadlineMs: 50 })
  const cursor = (await history.view.snapshot()).cursor
  t.same(await history.view.changesSince(cursor, 10), [])
  hang = true
  await t.rejects(Promise.resolve(history.view.changesSince(cursor, 10)), /did not answer within 50 ms/)
})

test('ids Redis cannot keep as they are (a lone surrogate) come back exactly, in changes and in snapshots', async (t) => {
  const server = await RedisServer.start(t)
  const made = await storeOn(t, server, { mode: 'lookup' })
  const start = (await made.history.snapshot()).cursor
  await made.endSubject('\uD800user', 1_780_000_000_000_000, now() + 60)
  await made.end('{}\uDC00', now() + 60)
  t.same(ids(await made.history.changesSince(start, 10))?.sort(), ['{}\uDC00', '\uD800user'].sort())
  const snapshot = await made.history.snapshot()
  t.same([snapshot.sessions[0]?.[0], snapshot.subjects[0]?.[0]], ['{}\uDC00', '\uD800user'])
})
