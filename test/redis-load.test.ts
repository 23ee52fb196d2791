import { test } from 'tap'
import type { RedisClient } from '../lib/index'
import { loadKeys } from '../lib/stores/redis/load'
import { RedisServer, connected } from './redis-server'

const always = (): boolean => true

test('a mirror load reads every key under the prefix and its expiry, and no other key', async (t) => {
  const server = await RedisServer.start(t)
  const redis = await server.admin()
  await redis.set('jwt-session:s:{1}a', 'x', 'EXAT', 4_000_000_000)
  await redis.set('jwt-session:s:{2}b', '1:2')
  await redis.set('jwt-session:u:{3}c', '5')
  await redis.set('other:s:{1}d', 'x')
  const seen: unknown[] = []
  await loadKeys(redis, 'jwt-session:', (...value) => seen.push(value), always)
  t.same(seen.sort(), [['s', 'a', 'x', 4_000_000_000], ['s', 'b', '1:2', Number.MAX_SAFE_INTEGER], ['u', 'c', '5', Number.MAX_SAFE_INTEGER]])
})

test('a mirror load that cannot read a key rejects: a copy with a key missing would let its tokens in', async (t) => {
  const server = await RedisServer.start(t)
  const redis = await server.admin()
  await redis.set('jwt-session:s:{1}readable', 'x')
  await redis.set('jwt-session:s:{1}hidden', 'x')
  // SCAN lists every key whatever the user's key patterns; GET of a key it may only write is refused.
  await redis.call('ACL', 'SETUSER', 'loader', 'on', '>loader-password', '+@all', '~jwt-session:s:{1}readable', '%W~jwt-session:s:{1}hidden')
  const client = server.client({ username: 'loader', password: 'loader-password' })
  await connected(client)
  await t.rejects(loadKeys(client, 'jwt-session:', () => {}, always), /NOPERM/)
})

test('a Cluster client that knows no master yet loads nothing, and says so rather than answer an empty copy', async (t) => {
  // A fake that reaches this branch only: a real Cluster client lists its masters once it found them.
  const client = { nodes: () => [] } as unknown as RedisClient
  await t.rejects(loadKeys(client, 'jwt-session:', () => {}, always), /no Redis node is reachable yet/)
})
