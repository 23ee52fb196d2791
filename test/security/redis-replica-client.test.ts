import { test } from 'tap'
import { OptionError, redisStore } from '../../lib/index'
import { buildApp } from '../helpers'
import { startReplicated } from '../redis-cluster'
import { connected } from '../redis-server'

/*
 * A service that only verifies tokens pointed at a read replica, as read-only services often
 * are. It writes nothing, so no READONLY error would ever tell it; and a replica whose link to
 * its master is down keeps serving what it holds (`replica-serve-stale-data yes`, the
 * default) for as long as the link stays down, so a token logged out on the master would be
 * let in. The store refuses a replica at start, naming the problem, in both modes.
 */

for (const mode of ['lookup', 'mirror'] as const) {
  test(`${mode}: a store on a replica is refused at start, and so is the app`, async (t) => {
    const { replica } = await startReplicated(t)
    const client = replica.client()
    await connected(client)
    const store = redisStore({ client, mode })
    t.teardown(async () => await store.close())
    await t.rejects(store.ready(), { name: 'OptionError', message: /redisStore needs a master; this Redis is a replica/ })
    await t.rejects(buildApp(t, { revocationStore: store }), OptionError)
  })
}
