/**
 * `npm run bench`: the HTTP benchmark (interleaved rounds, ratios paired per round), the
 * micro-benchmarks, the memory store's cost per revoked token, and the soak. Prints tables
 * and writes `bench/results/latest.json`. Settings: BENCH_ROUNDS (4), BENCH_DURATION
 * seconds (5), BENCH_WARMUP seconds (2), BENCH_SOAK_SECONDS (60), BENCH_PARTS
 * (`http,micro,memory,feed,soak`: `feed` is the revocation feed's latency, start-up and fan-out, see feed.ts; add `redis` for the Redis mirror's load and blip figures, about 4
 * minutes more, or run `BENCH_PARTS=redis` alone: see redis-mirror.ts; add `failover` for the
 * acknowledged logouts a Sentinel failover loses, about 20 minutes: see redis-failover.ts), BENCH_ROWS (row names separated by `;`: all rows when unset),
 * BENCH_NEXTTICK_WARMUP (300000 `process.nextTick` calls in every server before `listen`; see
 * server.ts). Runs on Node 24, the LTS users run, installed into `.node/24` when the running
 * Node is another version (`.ci/node`); BENCH_NODE=20 or 22 measures on that version instead.
 * Not part of the package.
 */
import { spawnSync } from 'node:child_process'
import { mkdirSync, writeFileSync } from 'node:fs'
import { cpus } from 'node:os'
import { RedisServer } from '../test/redis-server'
import { ROWS, TARGETS, canPin, load, makeMaterial, median, resetRenewTokens, startServer, stopServer, type Run } from './http'
import { soak } from './soak'

const env = process.env
const ROUNDS = Number(env.BENCH_ROUNDS ?? 4)
const DURATION = Number(env.BENCH_DURATION ?? 5)
const WARMUP = Number(env.BENCH_WARMUP ?? 2)
const PARTS = new Set((env.BENCH_PARTS ?? 'http,micro,memory,feed,soak').split(','))

const cleanups: Array<() => unknown> = []
const fixture = { teardown: (fn: () => unknown) => { cleanups.push(fn) } }

function table (header: string[], rows: Array<Array<string | number>>): string {
  const cells = [header, ...rows.map((row) => row.map(String))]
  const widths = header.map((_, column) => Math.max(...cells.map((row) => (row[column] ?? '').length)))
  const line = (row: string[]): string => `| ${row.map((cell, column) => cell.padEnd(widths[column] as number)).join(' | ')} |`
  return [line(header), `| ${widths.map((width) => '-'.repeat(width)).join(' | ')} |`, ...cells.slice(1).map(line)].join('\n')
}

async function http (): Promise<unknown> {
  const redis = await RedisServer.start(fixture)
  const redisUrl = `redis://127.0.0.1:${redis.port}`
  const material = await makeMaterial()
  const runs = new Map<string, Run[]>(ROWS.map((row) => [row.name, []]))
  // The load generator warms up too, once, so that the first row of round 1 is not its warm-up.
  const first = await startServer('bare', material, redisUrl)
  await load({ name: 'bare', variant: 'bare', load: 'none' }, first.port, first.pid, material, WARMUP * 2)
  await stopServer(first.child)
  for (let round = 1; round <= ROUNDS; round++) {
    // Each round starts one row further on, so that no row always runs first (or last).
    const order = ROWS.map((_, index) => ROWS[(index + round - 1) % ROWS.length] as typeof ROWS[number])
    for (const row of order) {
      resetRenewTokens()
      const { port, pid, child, v8 } = await startServer(row.variant, material, redisUrl)
      await load(row, port, pid, material, WARMUP)
      const run = await load(row, port, pid, material, DURATION)
      run.v8 = { ...v8, afterLoad: await stopServer(child) }
      if (run.non2xx > 0 || run.errors > 0) throw new Error(`${row.name}: ${run.non2xx} non-2xx answers and ${run.errors} errors`)
      runs.get(row.name)?.push(run)
      const tiers = (state: unknown): string => ((state as { tiers?: string[] } | undefined)?.tiers ?? ['?']).join('+') || 'none'
      process.stdout.write(`round ${round}/${ROUNDS}  ${row.name.padEnd(38)} ${Math.round(run.rps).toString().padStart(7)} req/s  p99 ${run.p99} ms  ${run.cpu} µs CPU/request  nextTick ${tiers(v8.atListen)} -> ${tiers(run.v8.afterLoad)}\n`)
    }
  }
  const rowsOut = ROWS.map((row) => {
    const list = runs.get(row.name) as Run[]
    const rps = list.map((run) => run.rps)
    // Spread: how far the rounds of this row lie apart, relative to their median.
    const spread = Number(((Math.max(...rps) - Math.min(...rps)) / median(rps)).toFixed(3))
    return { name: row.name, rps: Math.round(median(rps)), spread, p99: median(list.map((run) => run.p99)), cpu: Number(median(list.map((run) => run.cpu)).toFixed(1)), runs: list }
  })
  const ratios = TARGETS.map((target) => {
    const mine = runs.get(target.row) as Run[]
    const theirs = runs.get(target.reference) as Run[]
    const paired = mine.map((run, round) => run.rps / (theirs[round] as Run).rps)
    // The same ratio from server CPU per request: what it would be were the server the only limit.
    const byCpu = median(mine.map((run, round) => (theirs[round] as Run).cpu / run.cpu))
    const value = median(paired)
    return { ...target, ratio: Number(value.toFixed(3)), min: Number(Math.min(...paired).toFixed(3)), max: Number(Math.max(...paired).toFixed(3)), byCpu: Number(byCpu.toFixed(3)), met: target.target === undefined ? undefined : value >= target.target }
  })
  console.log(`\n${table(['scenario', 'req/s', 'spread', 'p99 ms', 'server CPU µs/request'], rowsOut.map((row) => [row.name, row.rps, `${Math.round(row.spread * 100)}%`, row.p99, row.cpu]))}\n`)
  console.log(`${table(['ratio (req/s, paired per round)', 'median', 'min', 'max', 'by CPU', 'target', 'met'], ratios.map((ratio) => [ratio.name, ratio.ratio, ratio.min, ratio.max, ratio.byCpu, ratio.target === undefined ? '—' : `>= ${ratio.target}`, ratio.met === undefined ? '—' : ratio.met ? 'yes' : 'NO']))}\n`)
  return { rows: rowsOut, ratios }
}

/** Runs a part in a child process on the server core (micro-benchmarks, memory and redis need a quiet process, memory and redis need --expose-gc). */
function child (script: string): unknown {
  const command = [process.execPath, '--expose-gc', '--import', 'tsx', script]
  const result = spawnSync(canPin ? 'taskset' : command[0] as string, canPin ? ['-c', '0', ...command] : command.slice(1), { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] })
  if (result.status !== 0) throw new Error(`${script} failed`)
  const [text, json] = result.stdout.split('\nJSON ')
  console.log(text)
  return JSON.parse(json as string)
}

async function main (): Promise<void> {
  // The load generator (this process) on core 1, every server on core 0.
  if (canPin) spawnSync('taskset', ['-pc', '1', String(process.pid)])
  console.log(`Node ${process.version}, ${cpus().length} cores${canPin ? ', load generator and servers pinned to cores of their own' : ''}`)
  const results: Record<string, unknown> = {
    date: new Date().toISOString(),
    machine: { cpus: cpus().length, model: cpus()[0]?.model, node: process.version, pinned: canPin },
    settings: { rounds: ROUNDS, duration: DURATION, warmup: WARMUP, nextTickWarmup: Number(env.BENCH_NEXTTICK_WARMUP ?? 300_000), rows: ROWS.map((row) => row.name) }
  }
  try {
    if (PARTS.has('http')) results.http = await http()
    if (PARTS.has('micro')) results.micro = child('bench/micro.mts')
    if (PARTS.has('memory')) results.memory = child('bench/memory.ts')
    if (PARTS.has('feed')) results.feed = child('bench/feed.ts')
    if (PARTS.has('soak')) results.soak = await soak(Number(env.BENCH_SOAK_SECONDS ?? 60))
    if (PARTS.has('redis')) results.redis = child('bench/redis-mirror.ts')
    if (PARTS.has('failover')) results.failover = child('bench/redis-failover.ts')
  } finally {
    for (const cleanup of cleanups.reverse()) await cleanup()
    // Written even when a part failed: the parts before it took minutes to measure.
    mkdirSync('bench/results', { recursive: true })
    const json = JSON.stringify(results, null, 2)
    writeFileSync('bench/results/latest.json', json)
    writeFileSync(`bench/results/${String(results.date).replace(/[:.]/g, '-')}.json`, json)
    console.log('written to bench/results/latest.json')
  }
}

main().catch((error: unknown) => {
  console.error(error)
  process.exit(1)
})
