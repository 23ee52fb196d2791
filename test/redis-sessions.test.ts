import type { FastifyInstance } from 'fastify'
import { test, type Test } from 'tap'
import { redisStore, type JwtSessionOptions, type RedisClient } from '../lib/index'
import { bearer, buildApp, decodePayload } from './helpers'
import { RedisClusterServers } from './redis-cluster'
import { RedisServer, connected, eventually } from './redis-server'

type Teardown = { teardown (fn: () => unknown): void }
type Mode = 'mirror' | 'lookup'

/** Logs alice in on `app` from a client whose `user-agent` is `agent`; answers the token. */
async function loginFrom (app: FastifyInstance, agent: string): Promise<string> {
  const response = await app.inject({ method: 'POST', url: '/@login', headers: { 'user-agent': agent }, payload: { login: 'alice', password: 'wonderland' } })
  if (response.statusCode !== 200) throw new Error(`login failed: ${response.statusCode} ${response.body}`)
  return response.json().token
}

/** `GET /@sessions` with `token`: the sessions listed. */
async function sessionsOf (app: FastifyInstance, token: string): Promise<Array<{ id: string, current: boolean, userAgent: string, ip: string }>> {
  const response = await app.inject({ url: '/@sessions', headers: bearer(token) })
  if (response.statusCode !== 200) throw new Error(`GET /@sessions: ${response.statusCode} ${response.body}`)
  return response.json().sessions
}

const me = async (app: FastifyInstance, token: string): Promise<number> => (await app.inject({ url: '/me', headers: bearer(token) })).statusCode
const sidOf = (token: string): string => decodePayload(token).sid as string

/**
 * The sessions routes on two instances sharing one Redis (`client()` gives each its own
 * client): what one lists, ends or evicts, the other sees.
 */
function sessionsAcrossInstances (t: Test, client: () => Promise<RedisClient>, mode: Mode, prefix: string): void {
  async function instance (t: Teardown, options: Partial<JwtSessionOptions> = {}, keys = prefix): Promise<FastifyInstance> {
    const store = redisStore({ client: await client(), mode, prefix: keys })
    t.teardown(async () => await store.close())
    await store.ready()
    return await buildApp(t, { revocationStore: store, loginThrottle: false, ...options })
  }
  /** Refused on `app`: at once in lookup mode, once the message arrived in mirror mode. */
  async function refusedOn (app: FastifyInstance, token: string): Promise<boolean> {
    if (mode === 'lookup') return await me(app, token) === 401
    await eventually(async () => await me(app, token) === 401)
    return true
  }

  t.test(`${mode}: three logins on A listed on B; DELETE on A refused on B; { others: true } on B`, async (t) => {
    const [a, b] = [await instance(t), await instance(t)]
    const [phone, laptop, tablet] = [await loginFrom(a, 'phone'), await loginFrom(a, 'laptop'), await loginFrom(a, 'tablet')]
    const listed = await sessionsOf(b, laptop)
    t.same(listed.map((s) => s.userAgent), ['tablet', 'laptop', 'phone'], 'every login listed on the other instance, newest first')
    t.same(listed.map((s) => s.current), [false, true, false], 'the caller\'s own marked current')
    t.same(listed.map((s) => s.id), [tablet, laptop, phone].map(sidOf))
    t.ok(listed.every((s) => s.ip === '127.0.0.1'))

    const deleted = await a.inject({ method: 'DELETE', url: `/@sessions/${sidOf(phone)}`, headers: bearer(laptop) })
    t.equal(deleted.statusCode, 204)
    t.ok(await refusedOn(b, phone), 'the deleted session is refused on B')
    t.equal(await me(a, phone), 401, 'and on A at once')
    t.same((await sessionsOf(b, laptop)).map((s) => s.userAgent), ['tablet', 'laptop'], 'and no longer listed on B')
    t.equal((await b.inject({ method: 'DELETE', url: `/@sessions/${sidOf(phone)}`, headers: bearer(laptop) })).statusCode, 404, 'an ended one is not found')

    const others = await b.inject({ method: 'POST', url: '/@logout', headers: bearer(laptop), payload: { others: true } })
    t.equal(others.statusCode, 204)
    t.ok(await refusedOn(a, tablet), 'every other session refused on A')
    t.equal(await me(b, tablet), 401)
    t.equal(await me(a, laptop), 200, 'this one goes on')
    t.same((await sessionsOf(a, laptop)).map((s) => s.userAgent), ['laptop'])
  })

  t.test(`${mode}: the cap, maxSessionsPerUser, holds across instances: a login on B past it ends the least recently used, logged in on A`, async (t) => {
    const options = { maxSessionsPerUser: 2 }
    const keys = `${prefix}cap:`
    const [a, b] = [await instance(t, options, keys), await instance(t, options, keys)]
    const first = await loginFrom(a, 'first')
    const second = await loginFrom(a, 'second')
    const third = await loginFrom(b, 'third')
    t.ok(await refusedOn(a, first), 'the least recently used session ended')
    t.equal(await me(b, first), 401)
    t.equal(await me(a, second), 200)
    t.same((await sessionsOf(a, third)).map((s) => s.userAgent), ['third', 'second'])
  })

  t.test(`${mode}: login/logout past the cap: the ended ones fold into a cut-off, every logged-out token stays refused on a new instance`, async (t) => {
    const options = { maxSessionsPerUser: 2 }
    const keys = `${prefix}fold:`
    const a = await instance(t, options, keys)
    const tokens: string[] = []
    for (let index = 0; index < 6; index++) {
      const token = await loginFrom(a, `loop ${index}`)
      t.equal((await a.inject({ method: 'POST', url: '/@logout', headers: bearer(token) })).statusCode, 204)
      tokens.push(token)
    }
    const late = await instance(t, options, keys)
    for (const token of tokens) t.equal(await me(late, token), 401, 'refused by an instance started after the folds')
    const fresh = await loginFrom(late, 'fresh')
    t.equal(await me(a, fresh), 200, 'a login after them goes on')
  })
}

test('the sessions routes on a real Redis, two instances', async (t) => {
  const server = await RedisServer.start(t)
  const client = async (): Promise<RedisClient> => {
    const made = server.client()
    await connected(made)
    return made
  }
  for (const mode of ['mirror', 'lookup'] as const) sessionsAcrossInstances(t, client, mode, `plain-${mode}:`)
})

test('the sessions routes on a real 3-master Redis Cluster, two instances', async (t) => {
  const cluster = await RedisClusterServers.start(t)
  for (const mode of ['mirror', 'lookup'] as const) sessionsAcrossInstances(t, async () => await cluster.ready(), mode, `cluster-${mode}:`)
})
