import { test } from 'tap'
import { storeKeys } from '../../lib/stores/redis/keys'
import { bearer, buildApp, decodePayload, login, renew } from '../helpers'
import { RedisServer } from '../redis-server'
import { storeOn } from '../redis-stores'

const keys = storeKeys('jwt-session:')

// The registry bounds what Redis holds per user: past `max` ended sessions, the oldest are
// folded into a cut-off of the user and their own revocations forgotten. A revocation must
// never be forgotten for all that: the cut-off, recorded before the forget, refuses them, on
// an instance that loads everything from scratch after the forget too (its copy never saw
// the forgotten keys), and in lookup mode.
test('after a fold and a forget, an instance started from scratch refuses every folded token', async (t) => {
  const server = await RedisServer.start(t)
  const store = await storeOn(t, server, { mode: 'mirror' })
  const app = await buildApp(t, { revocationStore: store })
  const sub = 'u-alice'
  const tokens = [await login(app), await login(app), await login(app), await login(app)]
  // One of them renewed: its key holds a generation, not an end.
  const renewed = (await renew(app, tokens[3] as string)).json().token as string
  const claims = tokens.map(decodePayload)

  // Three logged out (the route ends them), each then counted as ended; at most one is held
  // once each fold is forgotten, in the plugin's order: the cut-off first, then the forget.
  const folds = []
  for (const token of tokens.slice(0, 3)) {
    t.equal((await app.inject({ method: 'POST', url: '/@logout', headers: bearer(token) })).statusCode, 204)
    const { sid, auth_us: createdAt, exp } = decodePayload(token)
    const fold = await store.registry.ended(sub, sid, createdAt, exp, 1)
    folds.push(fold)
    if (fold === undefined) continue
    await store.endSubject(sub, fold.cutoff, Math.max(...claims.map((c) => c.exp as number)))
    await store.registry.forget(sub, fold.sids)
  }
  // The live fourth one, listed, logged in after them: a fold must not reach it.
  const fourth = claims[3] as Record<string, any>
  await store.registry.add(sub, { sid: fourth.sid, createdAt: fourth.auth_us, lastSeenAt: fourth.auth_us, expiresAt: fourth.exp, ip: '192.0.2.1', userAgent: '' }, 5)
  t.equal(folds[0], undefined)
  const folded: string[] = []
  for (const fold of folds.slice(1)) {
    t.ok(fold !== undefined, 'past max: a fold')
    folded.push(...fold?.sids ?? [])
  }
  t.same(folded, [claims[0]?.sid, claims[1]?.sid], 'the two oldest ended sessions folded')
  for (const sid of folded) t.equal(await server.admin().then(async (redis) => await redis.exists(keys.session(sid))), 0, 'its revocation is forgotten in Redis')

  for (const mode of ['mirror', 'lookup'] as const) {
    const fresh = await buildApp(t, { revocationStore: await storeOn(t, server, { mode }) })
    for (const [index, token] of tokens.slice(0, 3).entries()) {
      t.equal((await fresh.inject({ url: '/me', headers: bearer(token) })).statusCode, 401, `${mode}, started after the forget: logged-out token ${index} refused`)
      t.equal((await renew(fresh, token)).statusCode, 401, `${mode}: and not renewed`)
    }
    t.equal((await fresh.inject({ url: '/me', headers: bearer(renewed) })).statusCode, 200, `${mode}: the live session logged in after the cut-off goes on`)
  }
  t.same((await store.registry.list(sub)).map((entry) => entry.sid), [fourth.sid], 'and stays listed')
})
