import { test } from 'tap'
import { memoryStore, type SessionEntry } from '../lib/index'
import { fakeClock } from './helpers'

const now = (): number => Math.floor(Date.now() / 1000)

/** A registry entry logged in at `createdAt` (µs), kept `ttl` seconds. */
function entry (sid: string, createdAt: number, ttl = 60): SessionEntry {
  return { sid, createdAt, lastSeenAt: createdAt, expiresAt: now() + ttl, ip: '10.0.0.1', userAgent: 'test' }
}

test('the memory registry lists, touches, evicts the least recently used, and drops expired entries', async (t) => {
  const clock = fakeClock(t)
  const { registry } = memoryStore()
  t.same(registry.add('u', entry('a', 1), 2), [])
  t.same(registry.add('u', entry('a', 1), 2), [], 'the same session listed again takes no second entry')
  t.same(registry.add('u', entry('b', 2), 2), [])
  registry.touch('u', { ...entry('a', 99), lastSeenAt: 10, ip: '10.0.0.2' })
  registry.touch('u', entry('nobody', 3))
  registry.touch('stranger', entry('a', 3))
  t.same(registry.list('u').map((listed) => [listed.sid, listed.createdAt, listed.ip]), [['a', 1, '10.0.0.2'], ['b', 2, '10.0.0.1']], 'a touch keeps the login time')
  t.same(registry.add('u', entry('c', 3), 2).map((old) => old.sid), ['b'], 'b was seen least recently')
  t.equal(registry.size, 2)
  t.equal(registry.held('u'), 2)
  t.same(registry.list('stranger'), [])
  clock.tick(61_000)
  t.same(registry.list('u'), [], 'expired')
  t.equal(registry.held('u'), 0)
  t.equal(registry.size, 0)
})

test('ended sessions past the cap fold into a cut-off that covers the live ones as old; forget, once the cut-off is held, drops their entries', async (t) => {
  const store = memoryStore()
  const { registry } = store
  registry.add('u', entry('old-live', 1), 10)
  registry.add('u', entry('new-live', 9), 10)
  for (const [sid, at] of [['e2', 2], ['e3', 3]] as const) {
    store.end(sid, now() + 60)
    t.equal(registry.ended('u', sid, at, now() + 60, 2), undefined, 'within the cap')
  }
  t.equal(registry.ended('u', 'e3', 3, now() + 90, 2), undefined, 'ended twice, counted once')
  // A third ended one: e2, the oldest, folds into a cut-off at its login, which covers old-live too.
  store.end('e4', now() + 60)
  t.same(registry.ended('u', 'e4', 4, now() + 60, 2), { cutoff: 2, sids: ['e2', 'old-live'] })
  t.same(registry.list('u').map((listed) => listed.sid), ['old-live', 'new-live'], 'the live one stays listed until its cut-off is recorded')
  t.equal(store.size, 3)
  registry.forget('u', ['e2', 'old-live'])
  t.equal(store.size, 3, 'without a cut-off of the user, forget forgets nothing')
  t.equal(registry.held('u'), 5)
  store.endSubject('u', 2, now() + 60)
  registry.forget('u', ['e2', 'old-live', 'new-live', 'e3', 'never-listed'])
  t.same(registry.list('u').map((listed) => listed.sid), ['new-live'], 'a session logged in after the cut-off is never dropped, even named')
  t.equal(store.size, 3, 'only e2\'s revocation forgotten: e3 and e4 keep theirs, and the cut-off is one more')
  t.ok(store.session('e3')?.ended, 'e3, named but logged in after the cut-off, stays revoked')
  t.equal(registry.held('u'), 3, 'new-live, e3 and e4')
  registry.forget('stranger', ['e2'])
  t.ok(store.session('e2') === undefined && store.session('e3')?.ended, 'a user without a cut-off forgets nothing')
  store.endSubject('stranger', 5, now() + 60)
  registry.forget('stranger', ['e3'])
  t.ok(store.session('e3')?.ended, 'nor does one with a cut-off whose registry holds none of the sessions named')
  t.equal(registry.ended('unlisted', 'z', 1, now() + 60, 2), undefined, 'a session never listed is counted ended too')
  t.equal(registry.held('unlisted'), 1)
})

test('the registry counts under maxEntries: a full store refuses a new listing, and makes room from expired entries', async (t) => {
  const clock = fakeClock(t)
  const store = memoryStore({ maxEntries: 2 })
  const { registry } = store
  registry.add('u', entry('a', 1, 1), 5)
  store.end('x', now() + 1)
  t.throws(() => registry.add('v', entry('b', 2), 5), { name: 'MemoryStoreFullError' })
  t.throws(() => store.end('y', now() + 60), { name: 'MemoryStoreFullError' })
  t.equal(registry.held('v'), 0, 'nothing half-listed')
  clock.tick(2_000)
  t.same(registry.add('v', entry('b', 2), 5), [], 'the expired entries were swept')
  t.equal(registry.size, 1)
})

test('the memory registry drops ended sessions once they expire, and the user with them', async (t) => {
  const clock = fakeClock(t)
  const { registry } = memoryStore()
  registry.add('u', entry('a', 1, 60), 5)
  t.equal(registry.ended('u', 'a', 1, now() + 30, 5), undefined)
  t.equal(registry.held('u'), 1, 'one ended session counted')
  clock.tick(31_000)
  t.equal(registry.held('u'), 0, 'dropped once expired')
  t.equal(registry.size, 0)
})

test('a login at the cap drops the user\'s expired sessions before it evicts a live one', async (t) => {
  const clock = fakeClock(t)
  const { registry } = memoryStore()
  registry.add('u', entry('short', 1, 1), 2)
  registry.add('u', entry('long', 2, 600), 2)
  clock.tick(2_000)
  t.equal(registry.size, 2, 'a login under the cap reads none of the user\'s other entries: the expired one is still counted')
  t.same(registry.add('u', entry('new', 3, 600), 2), [], 'at the cap, the expired one goes, and no live one is evicted')
  t.same(registry.list('u').map((listed) => listed.sid).sort(), ['long', 'new'])
  t.equal(registry.size, 2)
})
