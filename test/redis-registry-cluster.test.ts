import { test } from 'tap'
import { redisStore, type SessionEntry } from '../lib/index'
import { bucketOf, storeKeys } from '../lib/stores/redis/keys'
import { RedisClusterServers } from './redis-cluster'

const keys = storeKeys('jwt-session:')
const now = (): number => Math.floor(Date.now() / 1000)
const micros = (offset = 0): number => Date.now() * 1000 + offset

/** Ids that would break a naive hash tag. */
const AWKWARD_SUBJECTS = ['alice', '', '}', '{', '{}', 'a}b{c', '%7D', 'user:42', 'ünï']

function entry (sid: string, createdAt: number, lastSeenAt = createdAt): SessionEntry {
  return { sid, createdAt, lastSeenAt, expiresAt: now() + 3600, ip: '192.0.2.1', userAgent: 'agent' }
}

const sidsOf = (entries: readonly SessionEntry[]): string[] => entries.map((e) => e.sid).sort()

test('the registry on a real 3-master Redis Cluster', async (t) => {
  const cluster = await RedisClusterServers.start(t)
  const client = await cluster.ready()
  const slotOf = async (key: string): Promise<number> => Number(await client.call('CLUSTER', 'KEYSLOT', key))

  t.test('each user\'s key is in the slot of its own tag, whatever braces the sub holds', async (t) => {
    for (const sub of AWKWARD_SUBJECTS) {
      const key = keys.registry(sub)
      const tag = /^jwt-session:r:\{(u:[0-9a-f]{8})\}/.exec(key)?.[1] as string
      t.equal(await slotOf(key), await slotOf(tag), `${JSON.stringify(sub)}: the slot of ${tag}`)
    }
  })

  for (const mode of ['mirror', 'lookup'] as const) {
    t.test(`${mode}: two users in different slots on different masters, every method works`, async (t) => {
      const store = redisStore({ client: await cluster.ready(), mode, prefix: 'jwt-session:' })
      t.teardown(async () => await store.close())
      await store.ready()
      const registry = store.registry
      const [alice, bob] = [`alice-${mode}`, `bob-${mode}`]
      const ranges = await client.call('CLUSTER', 'SLOTS') as Array<[number, number, [string, number]]>
      const ownerOf = async (key: string): Promise<number | undefined> => {
        const slot = await slotOf(key)
        return ranges.find(([start, end]) => slot >= start && slot <= end)?.[2][1]
      }
      t.not(await slotOf(keys.registry(alice)), await slotOf(keys.registry(bob)), 'two slots')
      t.not(await ownerOf(keys.registry(alice)), await ownerOf(keys.registry(bob)), 'on two masters')

      const base = micros()
      for (const sub of [alice, bob]) {
        t.same(await registry.add(sub, entry(`${sub}-1`, base, base + 1), 2), [])
        t.same(await registry.add(sub, entry(`${sub}-2`, base + 1, base + 2), 2), [])
        t.same(sidsOf(await registry.add(sub, entry(`${sub}-3`, base + 2, base + 3), 2)), [`${sub}-1`], 'the least recently used, removed')
        await registry.touch(sub, entry(`${sub}-2`, base + 1, base + 9))
        t.equal((await registry.list(sub)).find((e) => e.sid === `${sub}-2`)?.lastSeenAt, base + 9)
      }
      // Ended sessions in several buckets, so forget calls several nodes.
      const sids = Array.from({ length: 8 }, (_, index) => `${index}-${mode}-ended`)
      t.ok(new Set(sids.map(bucketOf)).size > 3, 'sessions in several buckets')
      const folds = []
      // Logged in before the live ones: the folds leave those listed.
      for (const [index, sid] of sids.entries()) {
        await store.end(sid, now() + 600)
        folds.push(await registry.ended(alice, sid, base - 100 + index, now() + 600, 4))
      }
      t.same(folds, [undefined, undefined, undefined, undefined, ...[0, 1, 2, 3].map((index) => ({ cutoff: base - 100 + index, sids: sids.slice(0, index + 1) }))],
        'past max, each end folds the oldest ended ones, kept until the cut-off is recorded and forget called')
      await store.endSubject(alice, base - 97, now() + 600)
      await registry.forget(alice, sids.slice(0, 4))
      for (const sid of sids) t.equal(await client.exists(keys.session(sid)), sids.indexOf(sid) < 4 ? 0 : 1, `${sid}: ${sids.indexOf(sid) < 4 ? 'forgotten' : 'kept'}`)
      t.same(sidsOf(await registry.list(alice)), [`${alice}-2`, `${alice}-3`], 'live sessions logged in after the cut-off stay listed')
      t.same(sidsOf(await registry.list(bob)), [`${bob}-2`, `${bob}-3`], 'the other user is untouched')
    })
  }
})
