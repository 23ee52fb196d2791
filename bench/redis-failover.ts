/**
 * The failover loss window, measured: how many acknowledged logouts a Sentinel failover loses,
 * and how long logouts are refused (503), without and with `minReplicas: 1`. Each run starts a
 * group of its own (a master, one replica, three sentinels with quorum 2, down-after 1000 ms,
 * failover-timeout 2000 ms; real `redis-server` processes on free ports, `--sentinel` for the
 * sentinels), a store in lookup mode on an ioredis Sentinel client set as `SentinelGroup.client`
 * in test/redis-sentinel.ts describes (the README's settings, reconnecting sooner),
 * four loops of logouts (`store.end`, each bounded by the plugin's `storeTimeout` of 2000 ms,
 * as a request would be) and one of reads (`store.session`, what `authenticate` asks in lookup
 * mode). After one second, the master fails:
 *
 * - `kill`: SIGKILL; restarted (empty, no persistence) three seconds after the switch, as a
 *   supervisor would, and Sentinel makes it a replica of the promoted one;
 * - `stop`: SIGSTOP (longer than down-after), SIGCONT three seconds after the switch: the old
 *   master comes back as a master, then Sentinel demotes it and it drops what it took meanwhile;
 * - `partition`: the sentinels and the replica lose the master (a proxy in front of it stops
 *   every byte) while the application still reaches it; healed three seconds after the switch.
 *
 * Variants: the client without `failoverDetector` or with ioredis' default backoff, two
 * replicas, and Redis' own `min-replicas-to-write 1` (`min-replicas-max-lag 1`) on every node.
 *
 * The loops go on until the old master is a replica in sync and one more second has passed;
 * then every acknowledged logout is read back from the promoted node (a lookup store on a
 * direct client). Settings: BENCH_FAILOVER_RUNS (3), BENCH_FAILOVER_SCENARIOS (all; names like
 * `kill/0`, `partition/0/no-detector`, separated by commas). About 25 minutes for all 13
 * scenarios, 3 runs each. Not part of the package.
 */
import { randomBytes } from 'node:crypto'
import type { RedisOptions } from 'ioredis'
import { redisStore } from 'fastify-jwt-session'
import { SentinelGroup, rejoined } from '../test/redis-sentinel'

type Fault = 'kill' | 'stop' | 'partition'
/**
 * The client: `advised` is the one `SentinelGroup.client` describes; `ioredis-defaults` the same
 * with ioredis' default reconnection backoff (up to 2 s) and `disconnectTimeout` (2 s);
 * `no-detector` the advised one without `failoverDetector`.
 */
type Client = 'advised' | 'ioredis-defaults' | 'no-detector'
/**
 * Redis' own guard, on every node: a master that has heard from no replica for a second
 * refuses writes (`min-replicas-max-lag` counts whole seconds).
 */
const MIN_REPLICAS_TO_WRITE = ['--min-replicas-to-write', '1', '--min-replicas-max-lag', '1']
interface Scenario { name: string, fault: Fault, minReplicas: number, client: Client, replicas: number, serverArgs: string[] }

const scenario = (fault: Fault, minReplicas: number, { client = 'advised', replicas = 1, serverArgs = [] }: Partial<Scenario> = {}): Scenario => ({
  name: `${fault}/${minReplicas}${client === 'advised' ? '' : `/${client}`}${replicas === 1 ? '' : `/${replicas}-replicas`}${serverArgs.length === 0 ? '' : '/min-replicas-to-write'}`,
  fault,
  minReplicas,
  client,
  replicas,
  serverArgs
})
const SCENARIOS: Scenario[] = [
  scenario('kill', 0), scenario('kill', 1), scenario('stop', 0), scenario('stop', 1),
  scenario('partition', 0), scenario('partition', 1),
  scenario('kill', 0, { client: 'ioredis-defaults' }), scenario('stop', 0, { client: 'ioredis-defaults' }),
  scenario('stop', 0, { client: 'no-detector' }), scenario('partition', 0, { client: 'no-detector' }),
  scenario('kill', 1, { replicas: 2 }), scenario('partition', 1, { replicas: 2 }),
  scenario('partition', 0, { serverArgs: MIN_REPLICAS_TO_WRITE })
]
const CLIENT_OPTIONS: Record<Client, RedisOptions> = {
  advised: {},
  'ioredis-defaults': { retryStrategy: (times) => Math.min(times * 50, 2000), disconnectTimeout: 2000 },
  'no-detector': { failoverDetector: false }
}
/** Sentinel events kept in each run's timeline. */
const EVENTS = new Set(['+sdown', '-sdown', '+odown', '+switch-master', '+convert-to-slave'])
const RUNS = Number(process.env.BENCH_FAILOVER_RUNS ?? 3)
const WANTED = process.env.BENCH_FAILOVER_SCENARIOS?.split(',')
const WORKERS = 4
/** The plugin's default `storeTimeout`: a logout that takes longer answers 503. */
const STORE_TIMEOUT = 2000
/** Below the client's `commandTimeout` (1000), as the README advises. */
const REPLICA_TIMEOUT = 500
/** Logouts before the fault, after the switch before the old master comes back, and after it rejoined. */
const BEFORE_MS = 1000
const RECOVER_AFTER_SWITCH_MS = 3000
const AFTER_REJOIN_MS = 1000
/** A run that has not recovered by then is reported as such. */
const RUN_LIMIT_MS = 60_000

interface Logout { sid: string, started: number, ended: number, acknowledged: boolean, reason?: string }

interface Run {
  /** Times in milliseconds from the fault. */
  switchAtMs: number
  rejoinedAtMs: number
  acknowledged: number
  refused: number
  /** Acknowledged between the fault and the switch: what a master cut off can take with it. */
  acknowledgedBeforeSwitch: number
  lost: number
  /** When the lost logouts were acknowledged. */
  lostFromMs: number | null
  lostToMs: number | null
  /** From the first refused logout's start to the last one's answer. */
  refusedFromMs: number | null
  refusedToMs: number | null
  /** Refusals started after the switch: with minReplicas, the promoted node has no replica yet. */
  refusedAfterSwitchMs: number
  /**
   * The longest stretch from the fault on with no logout acknowledged (a refused logout answers
   * 503; one sent to a frozen master hangs, then is refused or, re-sent by ioredis after the
   * reconnection, acknowledged): what a host sees as the outage.
   */
  noAckFromMs: number
  noAckToMs: number
  /** The same for reads: the longest stretch from the fault on with no read answered (lookup mode: every authenticated request 503). */
  noReadFromMs: number
  noReadToMs: number
  /** The first logout started after the switch that was acknowledged, and that the promoted node holds. */
  firstAckAfterSwitchMs: number | null
  reasons: Record<string, number>
  /** What the first sentinel published, from the fault on: `<ms> <event> <details>`. */
  events: string[]
}

/** The least and the greatest of many values (a spread of 100,000 arguments overflows the stack). */
const least = (values: number[]): number => values.reduce((a, b) => Math.min(a, b), Infinity)
const most = (values: number[]): number => values.reduce((a, b) => Math.max(a, b), -Infinity)
/** The longest stretch between two successive `times` (answers) that ends after `since`, counted from `since` at the earliest. */
function longestGap (times: number[], since: number): { from: number, to: number } {
  const sorted = [...times].sort((a, b) => a - b)
  let gap = { from: since, to: since }
  for (let index = 1; index < sorted.length; index++) {
    const [previous, next] = [Math.max(sorted[index - 1] as number, since), sorted[index] as number]
    if (next > since && next - previous > gap.to - gap.from) gap = { from: previous, to: next }
  }
  return gap
}
const sleep = async (ms: number): Promise<void> => await new Promise((resolve) => setTimeout(resolve, ms))
const median = (values: number[]): number => {
  const sorted = [...values].sort((a, b) => a - b)
  const middle = Math.floor(sorted.length / 2)
  return sorted.length % 2 === 1 ? sorted[middle] as number : ((sorted[middle - 1] as number) + (sorted[middle] as number)) / 2
}

/** `pending`, or a rejection once the plugin would have answered 503 for taking too long. */
async function bounded (pending: unknown): Promise<void> {
  let timer: NodeJS.Timeout | undefined
  try {
    await Promise.race([pending, new Promise((resolve, reject) => { timer = setTimeout(() => reject(new Error('storeTimeout')), STORE_TIMEOUT) })])
  } finally {
    clearTimeout(timer)
  }
}

/** A short name for why a logout was refused. */
function reasonOf (error: unknown): string {
  const message = error instanceof Error ? error.message : String(error)
  if (message.includes('replicas acknowledged')) return 'replicas'
  if (message.startsWith('READONLY')) return 'readonly'
  if (message.startsWith('NOREPLICAS')) return 'noreplicas'
  if (message === 'storeTimeout') return 'storeTimeout'
  if (message.includes('timed out')) return 'commandTimeout'
  if (message.includes('not been checked')) return 'preflight'
  return 'connection'
}

async function run (scenario: Scenario): Promise<Run> {
  const cleanups: Array<() => unknown> = []
  const fixture = { teardown: (fn: () => unknown) => { cleanups.push(fn) } }
  try {
    const group = await SentinelGroup.start(fixture, { partitionable: scenario.fault === 'partition', replicas: scenario.replicas, serverArgs: scenario.serverArgs })
    const client = group.client(CLIENT_OPTIONS[scenario.client])
    const store = redisStore({ client, mode: 'lookup', minReplicas: scenario.minReplicas, replicaTimeout: REPLICA_TIMEOUT })
    fixture.teardown(async () => await store.close())
    await store.ready()

    const logouts: Logout[] = []
    const expiresAt = Math.floor(Date.now() / 1000) + 3600
    const state = { running: true }
    const loop = async (): Promise<void> => {
      while (state.running) {
        const sid = randomBytes(16).toString('base64url')
        const started = performance.now()
        try {
          await bounded(store.end(sid, expiresAt))
          logouts.push({ sid, started, ended: performance.now(), acknowledged: true })
        } catch (error) {
          logouts.push({ sid, started, ended: performance.now(), acknowledged: false, reason: reasonOf(error) })
          // A refusal can be immediate (no connection): no busy loop, a request every 5 ms.
          await sleep(5)
        }
      }
    }
    const reads: number[] = []
    const readLoop = async (): Promise<void> => {
      while (state.running) {
        try {
          await bounded(store.session(randomBytes(16).toString('base64url')))
          reads.push(performance.now())
        } catch {
          await sleep(5)
        }
      }
    }
    const loops = [...Array.from({ length: WORKERS }, loop), readLoop()]
    await sleep(BEFORE_MS)

    const faultAt = performance.now()
    const pid = scenario.fault === 'stop' ? await group.pid(group.master) : 0
    if (scenario.fault === 'kill') await group.master.stop('SIGKILL')
    else if (scenario.fault === 'stop') process.kill(pid, 'SIGSTOP')
    else group.partition?.cut()
    const switched = await group.event('+switch-master', faultAt, RUN_LIMIT_MS)
    await sleep(RECOVER_AFTER_SWITCH_MS)
    if (scenario.fault === 'kill') await group.master.run()
    else if (scenario.fault === 'stop') process.kill(pid, 'SIGCONT')
    else group.partition?.heal()
    await rejoined(group.master, RUN_LIMIT_MS)
    const rejoinedAt = performance.now()
    await sleep(AFTER_REJOIN_MS)
    state.running = false
    await Promise.all(loops)

    // Read back from the promoted node itself, on a direct client.
    const direct = (await group.current()).client({ commandTimeout: 5000 })
    const reader = redisStore({ client: direct, mode: 'lookup' })
    fixture.teardown(async () => await reader.close())
    await reader.ready()
    const acknowledged = logouts.filter((logout) => logout.acknowledged)
    const held = new Set<string>()
    for (let start = 0; start < acknowledged.length; start += 500) {
      await Promise.all(acknowledged.slice(start, start + 500).map(async ({ sid }) => {
        if ((await reader.session(sid))?.ended === true) held.add(sid)
      }))
    }
    const from = (at: number): number => Math.round(at - faultAt)
    const lost = acknowledged.filter(({ sid }) => !held.has(sid))
    const refused = logouts.filter((logout) => !logout.acknowledged)
    const afterSwitch = refused.filter((logout) => logout.started >= switched.at)
    const firstAck = acknowledged.find((logout) => logout.started >= switched.at && held.has(logout.sid))
    const gap = longestGap(acknowledged.map((logout) => logout.ended), faultAt)
    const readGap = longestGap(reads, faultAt)
    const reasons: Record<string, number> = {}
    for (const { reason } of refused) reasons[reason as string] = (reasons[reason as string] ?? 0) + 1
    return {
      switchAtMs: from(switched.at),
      rejoinedAtMs: from(rejoinedAt),
      acknowledged: acknowledged.length,
      refused: refused.length,
      lost: lost.length,
      acknowledgedBeforeSwitch: acknowledged.filter((logout) => logout.ended >= faultAt && logout.ended < switched.at).length,
      lostFromMs: lost.length === 0 ? null : from(least(lost.map((logout) => logout.ended))),
      lostToMs: lost.length === 0 ? null : from(most(lost.map((logout) => logout.ended))),
      refusedFromMs: refused.length === 0 ? null : from(least(refused.map((logout) => logout.started))),
      refusedToMs: refused.length === 0 ? null : from(most(refused.map((logout) => logout.ended))),
      refusedAfterSwitchMs: afterSwitch.length === 0 ? 0 : Math.round(most(afterSwitch.map((logout) => logout.ended)) - switched.at),
      noAckFromMs: from(gap.from),
      noAckToMs: from(gap.to),
      noReadFromMs: from(readGap.from),
      noReadToMs: from(readGap.to),
      firstAckAfterSwitchMs: firstAck === undefined ? null : from(firstAck.ended),
      reasons,
      events: group.events.filter((event) => event.at >= faultAt && EVENTS.has(event.channel)).map((event) => `${from(event.at)} ${event.channel} ${event.message}`)
    }
  } finally {
    for (const cleanup of cleanups.reverse()) await cleanup()
  }
}

const range = (from: number | null, to: number | null): string => from === null ? 'none' : `${from} to ${to as number} ms`

async function main (): Promise<void> {
  const results: Array<{ scenario: Scenario, runs: Run[] }> = []
  for (const chosen of SCENARIOS.filter((each) => WANTED === undefined || WANTED.includes(each.name))) {
    const runs: Run[] = []
    for (let index = 1; index <= RUNS; index++) {
      const result = await run(chosen)
      runs.push(result)
      const reasons = Object.entries(result.reasons).map(([reason, count]) => `${reason} ${count}`).join(', ')
      console.log(`${chosen.name} ${index}/${RUNS}: switch at ${result.switchAtMs} ms, old master in sync again at ${result.rejoinedAtMs} ms; ` +
        `${result.lost} of ${result.acknowledged} acknowledged logouts lost (acknowledged ${range(result.lostFromMs, result.lostToMs)}; ${result.acknowledgedBeforeSwitch} were acknowledged between the fault and the switch); ` +
        `${result.refused} refused (${range(result.refusedFromMs, result.refusedToMs)}; ${result.refusedAfterSwitchMs} ms of them after the switch; ${reasons || 'none'}); ` +
        `no logout acknowledged from ${result.noAckFromMs} to ${result.noAckToMs} ms, no read answered from ${result.noReadFromMs} to ${result.noReadToMs} ms; first acknowledged logout on the promoted node at ${result.firstAckAfterSwitchMs ?? 'never'} ms`)
      console.log(`  sentinel: ${result.events.join('; ')}`)
    }
    results.push({ scenario: chosen, runs })
  }
  const summary = results.map(({ scenario, runs }) => ({
    ...scenario,
    runs,
    lost: median(runs.map((one) => one.lost)),
    lostMax: Math.max(...runs.map((one) => one.lost)),
    refusedToMs: median(runs.map((one) => one.refusedToMs ?? 0)),
    refusedAfterSwitchMs: median(runs.map((one) => one.refusedAfterSwitchMs)),
    noAckMs: median(runs.map((one) => one.noAckToMs - one.noAckFromMs)),
    noReadMs: median(runs.map((one) => one.noReadToMs - one.noReadFromMs)),
    switchAtMs: median(runs.map((one) => one.switchAtMs))
  }))
  console.log(`\nfailover, median of ${RUNS} runs (times from the fault):`)
  for (const row of summary) {
    console.log(`  ${row.name.padEnd(24)} switch at ${row.switchAtMs} ms; lost ${row.lost} acknowledged logouts (most ${row.lostMax}); no logout acknowledged for ${row.noAckMs} ms, no read answered for ${row.noReadMs} ms; 503 until ${row.refusedToMs} ms, ${row.refusedAfterSwitchMs} ms of it after the switch`)
  }
  process.stdout.write(`\nJSON ${JSON.stringify({ settings: { workers: WORKERS, storeTimeout: STORE_TIMEOUT, replicaTimeout: REPLICA_TIMEOUT, downAfter: 1000, failoverTimeout: 2000, recoverAfterSwitchMs: RECOVER_AFTER_SWITCH_MS }, scenarios: summary })}`)
}

main().catch((error: unknown) => {
  console.error(error)
  process.exit(1)
})
