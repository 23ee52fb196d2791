import { test } from 'tap'
import { memoryStore, OptionError } from '../lib/index'
import { fakeClock } from './helpers'

/*
 * The memory store's history, which the revocation feed publishes: every change at a cursor of
 * its own, bounded by historySize, and a snapshot of what it holds.
 */

const NOW = 1_000_000
const US = NOW * 1_000_000

test('every change is recorded at its cursor; changesSince answers what came strictly after one', async (t) => {
  fakeClock(t, NOW * 1000)
  const store = memoryStore()
  const start = store.history.snapshot().cursor
  t.match(start, /^[\w-]+\.0$/, 'a cursor is the store\'s id and a sequence number')
  store.renew('s1', 0, US, NOW + 60)
  store.renew('s1', 0, US + 1, NOW + 60)
  store.end('s2', NOW + 60)
  store.endSubject('u1', US + 5, NOW + 90)
  const changes = store.history.changesSince(start, 10) ?? []
  t.same(changes.map((change) => change.kind), ['session', 'session', 'subject'], 'a renewal that moved nothing on is not a change')
  t.has(changes[0], { sid: 's1', record: { generation: 1, renewedAt: US, ended: false }, expiresAt: NOW + 60 })
  t.has(changes[1], { sid: 's2', record: { ended: true } })
  t.has(changes[2], { sub: 'u1', cutoff: US + 5, expiresAt: NOW + 90 })
  t.same(store.history.changesSince(start, 2)?.length, 2, 'at most limit')
  t.same(store.history.changesSince(changes[2]?.cursor as string, 10), [], 'none after the last')
  t.same(store.history.changesSince(changes[0]?.cursor as string, 10)?.map((change) => change.cursor), changes.slice(1).map((change) => change.cursor))
  const id = start.slice(0, start.lastIndexOf('.'))
  for (const cursor of [`${id}.4`, `${id}.01`, `${id}.1e0`, `${id}.`, `${id}.-1`, 'another.1', '', 'no-dot']) {
    t.equal(store.history.changesSince(cursor, 10), undefined, `unknown cursor ${JSON.stringify(cursor)}`)
  }
  t.equal(memoryStore().history.changesSince(start, 10), undefined, 'a cursor of another store is unknown')
})

test('the history holds historySize changes; a cursor older than that is unknown', async (t) => {
  const store = memoryStore({ historySize: 2 })
  const start = store.history.snapshot().cursor
  store.end('a', Math.floor(Date.now() / 1000) + 60)
  t.equal(store.history.changesSince(start, 10)?.length, 1)
  store.end('b', Math.floor(Date.now() / 1000) + 60)
  store.end('c', Math.floor(Date.now() / 1000) + 60)
  t.equal(store.history.changesSince(start, 10), undefined, 'fell out')
  t.same(store.history.changesSince(store.history.snapshot().cursor.replace(/\.3$/, '.1'), 10)?.map((change) => change.kind === 'session' && change.sid), ['b', 'c'])
  t.throws(() => memoryStore({ historySize: 0 }), OptionError)
})

test('a snapshot lists what is live, with the cursor it stands at', async (t) => {
  const clock = fakeClock(t, NOW * 1000)
  const store = memoryStore()
  store.renew('live', 2, US, NOW + 60)
  store.end('ended', NOW + 60)
  store.end('soon', NOW + 5)
  store.endSubject('user', US + 7, NOW + 60)
  store.endSubject('gone', US + 7, NOW + 5)
  clock.tick(10_000)
  const snapshot = store.history.snapshot()
  t.same(snapshot.sessions, [['live', 3, US, 0, NOW + 60], ['ended', 0, 0, 1, NOW + 60]])
  t.same(snapshot.subjects, [['user', US + 7, NOW + 60]])
  t.match(snapshot.cursor, /\.5$/)
})

test('watch calls its listener after each change, until stopped', async (t) => {
  const store = memoryStore()
  let calls = 0
  const stop = store.history.watch(() => { calls++ })
  store.end('a', Math.floor(Date.now() / 1000) + 60)
  stop()
  store.end('b', Math.floor(Date.now() / 1000) + 60)
  t.equal(calls, 1)
})
