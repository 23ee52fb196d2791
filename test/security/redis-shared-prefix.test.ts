import { test } from 'tap'
import { redisStore, type JwtKey, type JwtSessionOptions, type RedisStore, type RedisStoreOptions } from '../../lib/index'
import { SECRET, bearer, buildApp, issue, login } from '../helpers'
import { pair, signingKey, verifyingKey } from '../key-pairs'
import { RedisServer, connected } from '../redis-server'
import { secretFingerprint } from '../../lib/jwt/key-fingerprint'

/*
 * Two apps on one Redis with one prefix (the default one, most often) share every key: a
 * session id or a user id of one is the same key as the other's, so a logout-all in one logs
 * the other's user out, and they count each other's failed logins. Each app that signs claims
 * its prefix at start with a fingerprint of its keys; a second app with other keys is refused
 * at registration, and a restart or a key rotation of the same app is not.
 */

const OTHER_SECRET = 'another-test-secret-of-32-bytes-or-more'
/** The refusal: it names redisStore's `prefix` option, the other app, and both ways out. */
const CLAIMED = /another app \(other keys\) uses the prefix "jwt-session:" on this Redis[\s\S]*redisStore's `prefix` option[\s\S]*delete the key "jwt-session:app"/
const now = (): number => Math.floor(Date.now() / 1000)

/** A store on `server` with a client of its own, closed after the test. */
async function storeOn (t: { teardown (fn: () => unknown): void }, server: RedisServer, options: Partial<RedisStoreOptions> = {}): Promise<RedisStore> {
  const client = server.client()
  await connected(client)
  const store = redisStore({ client, ...options })
  t.teardown(async () => await store.close())
  return store
}

/** An app of `options` on its own store on `server`. */
async function appOn (t: { teardown (fn: () => unknown): void }, server: RedisServer, options: JwtSessionOptions, store?: RedisStore): Promise<Awaited<ReturnType<typeof buildApp>>> {
  return await buildApp(t, { ...options, revocationStore: store ?? await storeOn(t, server) })
}

/** Another ES256 key than {@link signingKey}'s. */
function secondKey (privateKey: boolean): JwtKey {
  const { privateKey: privatePem, publicKey } = pair('p256b')
  return { kid: 'k2', algorithm: 'ES256', publicKey, ...(privateKey ? { privateKey: privatePem } : {}) }
}

test('HS256: a second app (another secret) on the same prefix is refused at registration, and its store fails closed', async (t) => {
  const server = await RedisServer.start(t)
  const first = await appOn(t, server, { secret: SECRET })
  const token = await login(first)
  const other = await storeOn(t, server)
  await t.rejects(appOn(t, server, { secret: OTHER_SECRET }, other), CLAIMED, 'the registration rejects, naming the prefix option')
  await t.rejects(other.ready(), CLAIMED, 'so does the store\'s ready()')
  await t.rejects(async () => await other.session('s'), CLAIMED, 'a read is refused, never answered')
  await t.rejects(async () => await other.endSubject('u-alice', Date.now() * 1000, now() + 60), CLAIMED, 'and so is a write')
  t.equal((await first.inject({ url: '/me', headers: bearer(token) })).statusCode, 200, 'the first app is untouched')
  const admin = await server.admin()
  const owner = await admin.get('jwt-session:app')
  t.ok(owner !== null && !owner.includes(SECRET), 'the prefix names its app by a fingerprint, never the secret')
  t.equal(await admin.ttl('jwt-session:app'), -1, 'a claim that never lapses while the app runs')
})

test('ES256: an app with another key on the same prefix is refused; with a prefix of its own it starts', async (t) => {
  const server = await RedisServer.start(t)
  await appOn(t, server, { keys: [signingKey('ES256', 'k1')] })
  await t.rejects(appOn(t, server, { keys: [secondKey(true)] }), CLAIMED)
  await t.rejects(appOn(t, server, { secret: OTHER_SECRET }), CLAIMED, 'and so is an HS256 app')
  const own = await buildApp(t, { keys: [secondKey(true)], revocationStore: await storeOn(t, server, { prefix: 'other-app:' }) })
  const token = await login(own)
  t.equal((await own.inject({ url: '/me', headers: bearer(token) })).statusCode, 200)
})

test('two apps with different prefixes on one Redis both start, and neither sees the other\'s logouts', async (t) => {
  const server = await RedisServer.start(t)
  const one = await appOn(t, server, { secret: SECRET }, await storeOn(t, server, { prefix: 'app-one:' }))
  const two = await appOn(t, server, { secret: OTHER_SECRET }, await storeOn(t, server, { prefix: 'app-two:' }))
  const [first, second] = [await login(one), await login(two)]
  t.equal((await two.inject({ method: 'POST', url: '/@logout', headers: bearer(second), payload: { all: true } })).statusCode, 204)
  t.equal((await one.inject({ url: '/me', headers: bearer(first) })).statusCode, 200, 'the other app\'s logout-all of the same user id is its own')
})

test('the same app restarted, or several of its instances at once, start on its prefix', async (t) => {
  const server = await RedisServer.start(t)
  const first = await appOn(t, server, { secret: SECRET })
  const token = await login(first)
  await first.close()
  const restarted = await appOn(t, server, { secret: SECRET })
  t.equal((await restarted.inject({ url: '/me', headers: bearer(token) })).statusCode, 200, 'the restarted app takes the old token')
  const instances = await Promise.all([0, 1, 2].map(async () => await appOn(t, server, { secret: SECRET })))
  t.equal(instances.length, 3, 'three more instances started together')
  for (const mode of ['mirror', 'lookup'] as const) {
    await t.resolves(appOn(t, server, { secret: SECRET }, await storeOn(t, server, { mode })), `${mode} mode`)
  }
})

test('ES256: a key rotation ([k1], then [k2 signing, k1 verifying], then [k2]) starts at each step, instances overlapping', async (t) => {
  const server = await RedisServer.start(t)
  const before = await appOn(t, server, { keys: [signingKey('ES256', 'k1')] })
  const old = await login(before)
  const during = await appOn(t, server, { keys: [secondKey(true), verifyingKey('ES256', 'k1')] })
  t.equal((await during.inject({ url: '/me', headers: bearer(old) })).statusCode, 200, 'the new instance verifies the old key\'s token')
  const after = await appOn(t, server, { keys: [secondKey(true)] })
  t.equal((await after.inject({ url: '/me', headers: bearer(await login(during)) })).statusCode, 200)
  await t.rejects(appOn(t, server, { keys: [signingKey('ES256', 'k1')] }), CLAIMED, 'the old key alone, once rotated away, is another app')
})

test('HS256: a secret changed without a rotation starts once the prefix\'s key is deleted, as the message says', async (t) => {
  const server = await RedisServer.start(t)
  await appOn(t, server, { secret: SECRET })
  await t.rejects(appOn(t, server, { secret: OTHER_SECRET }), CLAIMED)
  await (await server.admin()).del('jwt-session:app')
  const changed = await appOn(t, server, { secret: OTHER_SECRET })
  t.equal((await changed.inject({ url: '/me', headers: bearer(await login(changed)) })).statusCode, 200)
})

test('a verify-only service (public keys only) shares the prefix of the app whose tokens it verifies', async (t) => {
  const server = await RedisServer.start(t)
  const issuer = await appOn(t, server, { keys: [signingKey('ES256', 'k1')] })
  const token = await login(issuer)
  const service = await appOn(t, server, { keys: [verifyingKey('ES256', 'k1')], verifyCredentials: undefined })
  t.equal((await service.inject({ url: '/me', headers: bearer(token) })).statusCode, 200)
  t.equal((await issuer.inject({ method: 'POST', url: '/@logout', headers: bearer(token) })).statusCode, 204)
})

test('a Redis error during the claim fails the registration, and the store fails closed', async (t) => {
  const server = await RedisServer.start(t)
  await (await server.admin()).hset('jwt-session:app', 'not', 'a string')
  const store = await storeOn(t, server)
  const refused = /Redis refuses redisStore's claim of its prefix: WRONGTYPE/
  await t.rejects(appOn(t, server, { secret: SECRET }, store), refused)
  await t.rejects(async () => await store.session('s'), refused)
})

test('an app that starts while Redis is away answers 503, and is refused once Redis is back and the prefix is another app\'s', async (t) => {
  const server = await RedisServer.start(t, { appendonly: true })
  await appOn(t, server, { secret: SECRET })
  await server.stop('SIGKILL')
  const client = server.client()
  const store = redisStore({ client })
  t.teardown(async () => await store.close())
  const app = await buildApp(t, { secret: OTHER_SECRET, revocationStore: store, storeTimeout: 300 })
  const token = await issue(app)
  t.equal((await app.inject({ url: '/me', headers: bearer(token) })).statusCode, 503, 'not checked, not claimed: fails closed')
  await server.run()
  await t.rejects(store.ready(), CLAIMED, 'once Redis answers, the claim is refused')
  t.equal((await app.inject({ url: '/me', headers: bearer(token) })).statusCode, 503, 'and every request fails closed')
})

test('a claim that Redis could not answer is made again once it can; until then the store fails closed', async (t) => {
  const server = await RedisServer.start(t)
  const store = await storeOn(t, server, { mode: 'lookup' })
  await store.ready()
  await server.stop('SIGKILL')
  const claimed = store.claimPrefix([secretFingerprint(Buffer.from(SECRET))])
  await t.rejects(async () => await store.session('s'), /this app has not claimed its Redis prefix yet/, 'checked, but not claimed: refused')
  await server.run()
  await t.resolves(claimed, 'claimed once Redis is back')
  t.equal(await store.session('s'), undefined, 'and answered from then on')
  t.equal(await (await server.admin()).get('jwt-session:app'), secretFingerprint(Buffer.from(SECRET)))
})

test('a store closed before it could claim its prefix says so, and tries no more', async (t) => {
  const server = await RedisServer.start(t)
  await server.stop('SIGKILL')
  const store = redisStore({ client: server.client() })
  const claimed = store.claimPrefix(['fingerprint'])
  await store.close()
  await t.rejects(claimed, /the Redis store was closed before it could claim its prefix/)
  await t.rejects(store.ready(), /closed before/)
})
