import { redisStore, type RedisStore } from '../lib/index'
import { connected, type RedisServer } from './redis-server'

/** A Redis store on `server` with a client of its own, ready (start-up check passed, mirror loaded), closed after the test. */
export async function storeOn (t: { teardown (fn: () => unknown): void }, server: RedisServer, options: Partial<Parameters<typeof redisStore>[0]> = {}): Promise<RedisStore> {
  const client = server.client()
  await connected(client)
  const store = redisStore({ client, ...options })
  t.teardown(async () => await store.close())
  await store.ready()
  return store
}
