import tap, { test, type Test } from 'tap'
import type { FastifyInstance } from 'fastify'
import { redisStore, type RedisStore } from '../lib/index'
import { bearer, buildApp, issue } from './helpers'
import { connected, eventually } from './redis-server'
import { SentinelGroup } from './redis-sentinel'

// Each test starts five processes and waits for a failover (about 6 s alone): room for a busy machine.
tap.setTimeout(120_000)

/** One logout through the route: its token, when it was sent (`performance.now()`), and the answer. */
interface Logout { token: string, sentAt: number, statusCode: number, code: string | undefined, retryAfter: unknown }

/**
 * Logs out fresh tokens through `app`, four at a time, until `stop()` is called or the test
 * ends: what a host's users do while its Redis fails over. Every answer is kept.
 */
function logoutLoop (t: Test, app: FastifyInstance): { logouts: Logout[], stop: () => Promise<void> } {
  const logouts: Logout[] = []
  const state = { running: true }
  // A test that fails half-way still stops its loops, before its app is closed under them.
  t.teardown(() => { state.running = false })
  const loop = async (): Promise<void> => {
    while (state.running) {
      const token = await issue(app)
      const sentAt = performance.now()
      const response = await app.inject({ method: 'POST', url: '/@logout', headers: bearer(token) }).catch(() => undefined)
      if (response === undefined) return
      logouts.push({ token, sentAt, statusCode: response.statusCode, code: response.statusCode === 204 ? undefined : response.json().code, retryAfter: response.headers['retry-after'] })
      // Refusals come at once while no master answers: a pause keeps the loop from spinning.
      if (response.statusCode !== 204) await new Promise((resolve) => setTimeout(resolve, 5))
    }
  }
  const loops = [loop(), loop(), loop(), loop()]
  return { logouts, stop: async () => { state.running = false; await Promise.all(loops) } }
}

/**
 * Apps on the promoted node itself (a direct client, not through the sentinels), one with a
 * store in lookup mode and one with a fresh mirror loaded from it.
 */
async function readersOfPromoted (t: Test, group: SentinelGroup): Promise<FastifyInstance[]> {
  return await Promise.all((['lookup', 'mirror'] as const).map(async (mode) => {
    const client = group.replica.client({ commandTimeout: 5000 })
    await connected(client)
    const store: RedisStore = redisStore({ client, mode })
    t.teardown(async () => await store.close())
    await store.ready()
    return await buildApp(t, { revocationStore: store })
  }))
}

/** How many of `tokens` the app answers 401 `FST_JWT_SESSION_REVOKED_TOKEN` to. */
async function refusedBy (app: FastifyInstance, tokens: string[]): Promise<number> {
  const answers = await Promise.all(tokens.map(async (token) => await app.inject({ url: '/me', headers: bearer(token) })))
  return answers.filter((answer) => answer.statusCode === 401 && answer.json().code === 'FST_JWT_SESSION_REVOKED_TOKEN').length
}

/** Every answer is a 204 or a fail-closed 503 with its code and Retry-After: never a 500 or another status. */
function assertFailClosed (t: Test, logouts: Logout[]): void {
  const other = logouts.filter((logout) => logout.statusCode !== 204 &&
    !(logout.statusCode === 503 && logout.code === 'FST_JWT_SESSION_STORE_UNAVAILABLE' && logout.retryAfter !== undefined))
  t.same(other.map((logout) => [logout.statusCode, logout.code]), [], 'every logout answered 204, or 503 FST_JWT_SESSION_STORE_UNAVAILABLE with Retry-After')
  t.ok(logouts.some((logout) => logout.statusCode === 503), 'logouts were refused while no master answered')
}

test('with minReplicas 1, no logout acknowledged before the master is killed is lost when Sentinel promotes its replica', async (t) => {
  const group = await SentinelGroup.start(t)
  const store = redisStore({ client: group.client(), mode: 'lookup', minReplicas: 1, replicaTimeout: 500 })
  t.teardown(async () => await store.close())
  const app = await buildApp(t, { revocationStore: store })
  await store.ready()

  const traffic = logoutLoop(t, app)
  await eventually(async () => traffic.logouts.filter((logout) => logout.statusCode === 204).length >= 200)
  const killedAt = performance.now()
  await group.master.stop('SIGKILL')
  const switched = await group.event('+switch-master', killedAt)
  // The promoted node has no replica left: every logout now waits for one that never comes.
  await eventually(async () => traffic.logouts.filter((logout) => logout.sentAt > switched.at).length >= 8)
  await traffic.stop()

  assertFailClosed(t, traffic.logouts)
  const afterSwitch = traffic.logouts.filter((logout) => logout.sentAt > switched.at)
  t.ok(afterSwitch.every((logout) => logout.statusCode === 503), 'with no replica left, every logout answers 503 (fail closed) until one rejoins')
  const acknowledged = traffic.logouts.filter((logout) => logout.statusCode === 204).map((logout) => logout.token)
  for (const [index, reader] of (await readersOfPromoted(t, group)).entries()) {
    t.equal(await refusedBy(reader, acknowledged), acknowledged.length, `the promoted node refuses every one of the ${acknowledged.length} acknowledged logouts (${index === 0 ? 'lookup' : 'a fresh mirror'})`)
  }
})

test('without minReplicas, logouts answer 204 or 503 through a failover, and what the promoted node acknowledged it keeps', async (t) => {
  const group = await SentinelGroup.start(t)
  const store = redisStore({ client: group.client(), mode: 'lookup' })
  t.teardown(async () => await store.close())
  const app = await buildApp(t, { revocationStore: store })
  await store.ready()

  const traffic = logoutLoop(t, app)
  await eventually(async () => traffic.logouts.filter((logout) => logout.statusCode === 204).length >= 200)
  // Once the old master is dead, only the promoted node can acknowledge a logout.
  await group.master.stop('SIGKILL')
  const killedAt = performance.now()
  await group.event('+switch-master', killedAt)
  await eventually(async () => traffic.logouts.filter((logout) => logout.sentAt > killedAt && logout.statusCode === 204).length >= 50)
  await traffic.stop()

  assertFailClosed(t, traffic.logouts)
  // How many logouts the old master took with it depends on timing: not asserted.
  const acknowledged = traffic.logouts.filter((logout) => logout.sentAt > killedAt && logout.statusCode === 204).map((logout) => logout.token)
  for (const [index, reader] of (await readersOfPromoted(t, group)).entries()) {
    t.equal(await refusedBy(reader, acknowledged), acknowledged.length, `the promoted node refuses all ${acknowledged.length} logouts it acknowledged (${index === 0 ? 'lookup' : 'a fresh mirror'})`)
  }
})
