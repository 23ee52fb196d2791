import type { FastifyInstance } from 'fastify'
import { test } from 'tap'
import { redisStore, type JwtSessionOptions } from '../lib/index'
import { bearer, buildApp, decodePayload, issue, login, renew } from './helpers'
import { masterNodes } from '../lib/stores/redis/nodes'
import { BUCKETS, bucketOf, storeKeys } from '../lib/stores/redis/keys'
import { MINIMAL_ACL } from './redis-acl'
import { RedisClusterServers } from './redis-cluster'
import { RedisServer, eventually } from './redis-server'

type Teardown = { teardown (fn: () => unknown): void }

const now = (): number => Math.floor(Date.now() / 1000)

/** Ids that would break a naive hash tag: braces, an escape look-alike, the empty string. */
const AWKWARD_SUBJECTS = ['alice', '', '}', '{', '{}', 'a}b{c', '%7D', 'user:42', 'ünï']

const keys = storeKeys('jwt-session:')

test('a plain client is its own one node', async (t) => {
  const server = await RedisServer.start(t)
  const client = server.client()
  t.same(masterNodes(client), [client])
})

test('on a real 3-master Redis Cluster', async (t) => {
  const cluster = await RedisClusterServers.start(t)

  t.test('masterNodes lists every master of a Cluster client, each answering for its own keys', async (t) => {
    const client = await cluster.ready()
    const nodes = masterNodes(client)
    t.equal(nodes.length, 3)
    const ports = await Promise.all(nodes.map(async (node) => Number(/^tcp_port:(\d+)/m.exec(String(await node.call('INFO', 'server')))?.[1])))
    t.same(ports.sort(), cluster.nodes.map((node) => node.port).sort(), 'one client per master, none twice')
    // A key is on exactly one master: SCAN must ask each of them, as the mirror's load will.
    await Promise.all(Array.from({ length: 30 }, async (_, i) => await client.set(`jwt-session:k${i}`, '1', 'EX', 60)))
    const counts = await Promise.all(nodes.map(async (node) => Number(await node.call('DBSIZE'))))
    t.equal(counts.reduce((a, b) => a + b, 0), 30, 'together the masters hold every key')
    t.ok(counts.every((count) => count < 30), 'no one master holds them all')
  })

  t.test('a key and the log of its bucket share a slot, whatever the id; the buckets spread over the masters', async (t) => {
    const client = await cluster.ready()
    for (const id of AWKWARD_SUBJECTS) {
      const touched = [keys.session(id), keys.subject(id), keys.log(bucketOf(id))]
      const slots = await Promise.all(touched.map(async (key) => await client.call('CLUSTER', 'KEYSLOT', key)))
      t.equal(new Set(slots).size, 1, `one slot for the keys of ${JSON.stringify(id)}`)
      t.same(await client.mget(touched), [null, null, null], 'a multi-key command on them runs')
    }
    await t.rejects(client.mget(['jwt-session:u:a', 'jwt-session:u:b', 'jwt-session:u:c', 'jwt-session:u:d']), /CROSSSLOT/, 'untagged keys would not')
    const ranges = await client.call('CLUSTER', 'SLOTS') as Array<[number, number, [string, number]]>
    const owners = await Promise.all(Array.from({ length: BUCKETS }, async (_, bucket) => {
      const slot = Number(await client.call('CLUSTER', 'KEYSLOT', keys.log(bucket)))
      return ranges.find(([start, end]) => slot >= start && slot <= end)?.[2][1]
    }))
    t.equal(new Set(owners).size, 3, `the ${BUCKETS} logs live on all 3 masters`)
  })

  t.test('the store checks every master at start: one evicting master is enough to refuse', async (t) => {
    // Created before the Cluster client has found its nodes: the check waits for them.
    const client = cluster.client()
    const store = redisStore({ client, mode: 'lookup' })
    t.teardown(async () => await store.close())
    await store.ready()
    t.pass('a Cluster whose masters all run noeviction passes')
    const third = await (cluster.nodes[2] as RedisServer).admin()
    await third.call('CONFIG', 'SET', 'maxmemory-policy', 'volatile-lru')
    t.teardown(async () => await third.call('CONFIG', 'SET', 'maxmemory-policy', 'noeviction'))
    const refused = redisStore({ client: await cluster.ready(), mode: 'lookup' })
    t.teardown(async () => await refused.close())
    await t.rejects(refused.ready(), /this Redis has volatile-lru/)
  })

  t.test('the minimal ACL of the README, with +cluster|slots and +cluster|info, is enough for a Cluster client', async (t) => {
    for (const node of cluster.nodes) {
      await (await node.admin()).call('ACL', 'SETUSER', 'app', 'on', '>app-password', ...MINIMAL_ACL, '+cluster|slots', '+cluster|info')
    }
    const client = cluster.client({ redisOptions: { username: 'app', password: 'app-password', maxRetriesPerRequest: 1 } })
    const store = redisStore({ client, mode: 'lookup' })
    t.teardown(async () => await store.close())
    await store.ready()
    await store.end('acl', now() + 60)
    t.equal((await store.session('acl'))?.ended, true)
  })

  t.test('minReplicas on a Cluster: the write and its WAIT go to the node of the key', async (t) => {
    const client = await cluster.ready()
    const store = redisStore({ client, mode: 'lookup', minReplicas: 1, replicaTimeout: 100 })
    t.teardown(async () => await store.close())
    await store.ready()
    for (const sid of ['a', 'b', 'c', 'd']) {
      // These masters have no replica: every write is refused, after it reached its own master.
      await t.rejects(async () => await store.end(sid, now() + 60), /0 of 1 replicas acknowledged/)
      t.equal(await client.get(keys.session(sid)), 'x', `session ${sid} ended on its master, then refused`)
    }
  })
})

/** The status of `/me` for `token`. */
async function me (app: FastifyInstance, token: string): Promise<number> {
  return (await app.inject({ url: '/me', headers: bearer(token) })).statusCode
}

/** Logs `token` out (everywhere with `all`) and answers the status. */
async function logout (app: FastifyInstance, token: string, all = false): Promise<number> {
  return (await app.inject({ method: 'POST', url: '/@logout', headers: bearer(token), payload: all ? { all } : {} })).statusCode
}

test('the plugin on a real 3-master Redis Cluster, in both modes', async (t) => {
  const cluster = await RedisClusterServers.start(t)
  const admins = await Promise.all(cluster.nodes.map(async (node) => await node.admin()))

  for (const mode of ['mirror', 'lookup'] as const) {
    const prefix = `e2e-${mode}:`
    /** An app on its own Cluster client and store, as another instance would be. */
    async function instance (t: Teardown, options: Partial<JwtSessionOptions> = {}, keys = prefix): Promise<FastifyInstance> {
      const store = redisStore({ client: await cluster.ready(), mode, prefix: keys })
      t.teardown(async () => await store.close())
      await store.ready()
      return await buildApp(t, { revocationStore: store, ...options })
    }

    t.test(`${mode}: login, renew, logout and logout-all, seen by another instance`, async (t) => {
      const [one, two] = [await instance(t), await instance(t)]
      const token = await login(one)
      t.equal(await me(two, token), 200)
      const renewed = await renew(one, token)
      t.equal(renewed.statusCode, 200)
      const next: string = renewed.json().token
      t.equal(decodePayload(next).gen, 1)
      t.equal(await me(two, next), 200)
      t.equal(await logout(two, next), 204)
      await eventually(async () => await me(one, next) === 401)
      t.equal(await me(two, next), 401, 'the instance that logged out refuses at once')
      t.equal((await renew(one, next)).statusCode, 401, 'an ended session cannot be renewed')
      const [phone, laptop, bob] = [await login(one), await login(two), await login(one, 'bob')]
      t.equal(await logout(one, phone, true), 204)
      await eventually(async () => await me(two, laptop) === 401)
      t.equal(await me(one, laptop), 401)
      t.equal(await me(two, phone), 401)
      t.equal(await me(two, bob), 200, 'other users are untouched')
      t.equal(await me(two, await login(one)), 200, 'a login after the logout-all works')
    })

    t.test(`${mode}: the login throttle counts on the Cluster, shared by instances`, async (t) => {
      const throttle = { loginThrottle: { perLogin: { max: 2 }, perAddress: false as const } }
      const [one, two] = [await instance(t, throttle), await instance(t, throttle)]
      const attempt = async (app: FastifyInstance, password: string): Promise<number> =>
        (await app.inject({ method: 'POST', url: '/@login', payload: { login: 'bob', password } })).statusCode
      t.equal(await attempt(one, 'wrong'), 401)
      t.equal(await attempt(two, 'wrong'), 401)
      t.equal(await attempt(one, 'builder'), 429, 'two failures on two instances fill the window')
      t.equal(await attempt(two, 'builder'), 429)
    })

    t.test(`${mode}: an instance started after 300 logouts refuses every one of them`, async (t) => {
      const keys = `${prefix}late:`
      // Room for every ended session in the registry: no fold into a cut-off, 300 keys to load.
      const first = await instance(t, { maxSessionsPerUser: 300 }, keys)
      const tokens = await Promise.all(Array.from({ length: 300 }, async () => await issue(first)))
      for (const token of tokens) if (await logout(first, token) !== 204) t.fail('logout refused')
      const held = await Promise.all(admins.map(async (admin) => (await admin.keys(`${keys}s:*`)).length))
      t.equal(held.reduce((a, b) => a + b, 0), 300)
      t.ok(held.every((count) => count > 0), `every master holds some of them (${held.join(', ')})`)
      const late = await instance(t, {}, keys)
      let refused = 0
      for (const token of tokens) if (await me(late, token) === 401) refused++
      t.equal(refused, 300)
      t.equal(await me(late, await login(late)), 200, 'a live session is still let in')
    })
  }
})
