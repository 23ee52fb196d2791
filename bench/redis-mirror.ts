/**
 * The Redis mirror under load: how long a new mirror takes to load 1,000,000 entries and what
 * it costs in RSS, and what a pub/sub blip (`CLIENT KILL TYPE pubsub`) with 200,000 entries
 * costs: how long `session()` throws (a 503 for requests) and how long until a logout made
 * during the blip is honoured. Each part runs on a fresh `redis-server` of its own (free port,
 * `--save '' --appendonly no`, stopped by its pid). Run with --expose-gc, so that RSS is read
 * after a full collection; each load runs in a fresh process of its own. Settings: BENCH_REDIS_LOAD_RUNS (3), BENCH_REDIS_BLIP_RUNS (5; 0 skips the blip part).
 * Not part of the package.
 */
import { spawnSync } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { Redis } from 'ioredis'
import { redisStore, type RedisStore } from 'fastify-jwt-session'
import { loadKeys } from '../lib/stores/redis/load'
import { RedisServer } from '../test/redis-server'

const LOAD_ENTRIES = 1_000_000
const BLIP_ENTRIES = 200_000
const LOAD_RUNS = Number(process.env.BENCH_REDIS_LOAD_RUNS ?? 3)
const BLIP_RUNS = Number(process.env.BENCH_REDIS_BLIP_RUNS ?? 5)
/** Sampling period of the blip loop, in milliseconds. */
const SAMPLE_MS = 5
const PREFIX = 'jwt-session:'
const MB = 1024 * 1024

const median = (values: number[]): number => {
  const sorted = [...values].sort((a, b) => a - b)
  const middle = Math.floor(sorted.length / 2)
  return sorted.length % 2 === 1 ? sorted[middle] as number : ((sorted[middle - 1] as number) + (sorted[middle] as number)) / 2
}
const sleep = async (ms: number): Promise<void> => await new Promise((resolve) => setTimeout(resolve, ms))

/**
 * A redis-server of the bench's own (the tests' `RedisServer`: a free port, a directory of its
 * own, no persistence), stopped and removed by `stop`.
 */
async function startRedis (): Promise<{ port: number, pid: number, stop: () => Promise<void> }> {
  const cleanups: Array<() => unknown> = []
  const server = await RedisServer.start({ teardown: (fn) => { cleanups.push(fn) } })
  const pid = server.pid as number
  // When this process is pinned to one core (as `npm run bench` does), Redis gets the other.
  spawnSync('taskset', ['-pc', '1', String(pid)], { stdio: 'ignore' })
  return { port: server.port, pid, stop: async () => { for (const cleanup of cleanups) await cleanup() } }
}

/** A client as the README advises: fail fast rather than queue while Redis is away. */
function client (port: number): Redis {
  const redis = new Redis({ host: '127.0.0.1', port, enableOfflineQueue: false, maxRetriesPerRequest: 1, connectTimeout: 500, commandTimeout: 5000, retryStrategy: () => 100 })
  redis.on('error', () => {})
  return redis
}

async function connected (redis: Redis): Promise<Redis> {
  if (redis.status !== 'ready') await new Promise((resolve) => redis.once('ready', resolve))
  return redis
}

/**
 * Writes `count` session keys in the store's own format, `SET <prefix>s:{<bucket>}<sid>
 * <value> EXAT <expiresAt>`, from a Lua loop inside Redis in chunks of 50,000 (so that no
 * client buffer of this process inflates the RSS measured later). Session ids are 22
 * characters, as the plugin's 128-bit base64url ids: a random 8-character chunk tag then a
 * 14-digit counter; the bucket is the counter modulo 16 (the store's own hash of the id would
 * spread them as evenly). Every other session is ended (`x`, a logout), the rest live and
 * renewed (`1:<µs>`).
 */
async function fill (redis: Redis, count: number): Promise<void> {
  const script = `
local expiresAt = tonumber(ARGV[3])
for i = tonumber(ARGV[1]), tonumber(ARGV[2]) do
  local value = 'x'
  if i % 2 == 1 then value = '1:' .. ARGV[4] end
  redis.call('SET', ARGV[5] .. '{' .. (i % 16) .. '}' .. ARGV[6] .. string.format('%014d', i), value, 'EXAT', expiresAt)
end
return 1
`
  const expiresAt = Math.floor(Date.now() / 1000) + 43_200
  const at = String(Date.now() * 1000)
  const chunk = 50_000
  for (let start = 0; start < count; start += chunk) {
    const tag = randomBytes(6).toString('base64url')
    await redis.eval(script, 0, start, Math.min(start + chunk, count) - 1, expiresAt, at, `${PREFIX}s:`, tag)
  }
  const size = await redis.dbsize()
  if (size !== count) throw new Error(`Redis holds ${size} keys, not ${count}`)
}

function rss (): { rss: number, heap: number, heapTotal: number, external: number } {
  (globalThis as { gc?: () => void }).gc?.()
  const usage = process.memoryUsage()
  return { rss: usage.rss, heap: usage.heapUsed, heapTotal: usage.heapTotal, external: usage.external }
}

/** CPU time of a process, in milliseconds, from /proc (clock ticks of 10 ms). */
function cpuOf (pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').replace(/^.*\) /, '').split(' ')
  return (Number(fields[11]) + Number(fields[12])) * 10
}

/** This process' CPU time, in milliseconds. */
function ownCpu (): number {
  const usage = process.cpuUsage()
  return (usage.user + usage.system) / 1000
}

/**
 * The other way to spread a load step over Redis and this process: SCAN asked by the client,
 * then the step's keys sent back to a script that answers what the load's own script does
 * (ids cut out, values and expiries, sessions and users apart). The keys travel twice and each
 * step costs two round trips; the load runs SCAN inside its script instead.
 */
const READ_KEYS = `#!lua flags=no-writes,allow-cross-slot-keys
local kindAt = tonumber(ARGV[1]) + 1
local found = { s = {}, u = {} }
local count = { s = 0, u = 0 }
for i = 2, #ARGV do
  local key = ARGV[i]
  local value = redis.pcall('GET', key)
  if type(value) == 'table' then
    if not string.find(value.err, '^WRONGTYPE') then return value end
  elseif value then
    local kind = string.sub(key, kindAt, kindAt)
    local idAt = string.match(key, '^{%d+}()', kindAt + 2) or kindAt + 2
    local out, n = found[kind], count[kind]
    out[n + 1] = string.sub(key, idAt)
    out[n + 2] = value
    out[n + 3] = redis.call('EXPIRETIME', key)
    count[kind] = n + 3
  end
end
return { found.s, found.u }
`

/**
 * Where a load's time goes: the walk over the keys without the copy. `scan` is the SCAN steps
 * alone; `load` the load itself (one script call per SCAN step, SCAN inside it) answering
 * every value to a function that keeps nothing; `split` SCAN from the client, then one script
 * call per step with the step's keys (see {@link READ_KEYS}).
 */
async function walk (redis: Redis, read: 'scan' | 'load' | 'split'): Promise<number> {
  const started = process.hrtime.bigint()
  let seen = 0
  if (read === 'load') {
    await loadKeys(redis, PREFIX, () => { seen++ }, () => true)
  } else {
    let cursor = '0'
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${PREFIX}[su]:*`, 'COUNT', 1000)
      cursor = next
      if (read === 'scan') seen += keys.length
      else if (keys.length > 0) {
        const [sessions, users] = await redis.eval(READ_KEYS, 0, Buffer.byteLength(PREFIX), ...keys) as [unknown[], unknown[]]
        seen += (sessions.length + users.length) / 3
      }
    } while (cursor !== '0')
  }
  if (seen < LOAD_ENTRIES) throw new Error(`the walk saw ${seen} keys`)
  return Math.round(Number(process.hrtime.bigint() - started) / 1e6)
}

interface LoadRun {
  readyMs: number
  rssMb: number
  heapMb: number
  heapTotalMb: number
  externalMb: number
  nodeCpuMs: number
  redisCpuMs: number
  walkMs: { scan: number, load: number, split: number }
}

/** One load run: a fresh Redis with 1,000,000 keys, a new mirror, its `ready()` timed. */
async function loadRun (): Promise<LoadRun> {
  const redis = await startRedis()
  try {
    const admin = await connected(client(redis.port))
    await fill(admin, LOAD_ENTRIES)
    admin.disconnect()
    const before = rss()
    const host = await connected(client(redis.port))
    const [nodeCpu, redisCpu] = [ownCpu(), cpuOf(redis.pid)]
    const started = process.hrtime.bigint()
    const store = redisStore({ client: host })
    await store.ready()
    const readyMs = Number(process.hrtime.bigint() - started) / 1e6
    const nodeCpuMs = Math.round(ownCpu() - nodeCpu)
    const redisCpuMs = cpuOf(redis.pid) - redisCpu
    // The copy must hold the state (not give way to Redis) for the figure to mean anything.
    if (store.session('x') instanceof Promise) throw new Error('the mirror did not hold 1,000,000 entries')
    const after = rss()
    await store.close()
    host.disconnect()
    const walker = await connected(client(redis.port))
    const walkMs = { scan: await walk(walker, 'scan'), load: await walk(walker, 'load'), split: await walk(walker, 'split') }
    walker.disconnect()
    const mb = (bytes: number): number => Math.round(bytes / MB)
    return { readyMs: Math.round(readyMs), rssMb: mb(after.rss - before.rss), heapMb: mb(after.heap - before.heap), heapTotalMb: mb(after.heapTotal - before.heapTotal), externalMb: mb(after.external - before.external), nodeCpuMs, redisCpuMs, walkMs }
  } finally {
    await redis.stop()
  }
}

interface BlipRun { unavailableMs: number, firstThrowMs: number, honouredMs: number, logoutAckMs: number, samples: number }

/** Reads the mirror: 'throws' while it is distrusted, else whether the session has ended. */
function probe (store: RedisStore, sid: string): 'throws' | 'ended' | 'live' {
  try {
    const record = store.session(sid)
    if (record instanceof Promise) throw new Error('the mirror answers from Redis: past its capacity')
    return record?.ended === true ? 'ended' : 'live'
  } catch (error) {
    if (error instanceof Error && error.message.includes('capacity')) throw error
    return 'throws'
  }
}

/**
 * One blip run on a Redis holding 200,000 keys: a mirror in sync; a live session it knows;
 * `CLIENT KILL TYPE pubsub`; at once a logout of that session through a second store (lookup
 * mode, its own client); the mirror sampled every 5 ms until it is in sync and honours it.
 */
async function blipRun (redis: { port: number }, admin: Redis): Promise<BlipRun> {
  const host = await connected(client(redis.port))
  const writerClient = await connected(client(redis.port))
  const mirror = redisStore({ client: host })
  const writer = redisStore({ client: writerClient, mode: 'lookup' })
  await Promise.all([mirror.ready(), writer.ready()])
  const sid = randomBytes(16).toString('base64url')
  const expiresAt = Math.floor(Date.now() / 1000) + 43_200
  await writer.renew(sid, 0, Date.now() * 1000, expiresAt)
  while (probe(mirror, sid) !== 'live') await sleep(SAMPLE_MS)

  let unavailable = 0
  let firstThrow = -1
  let honoured = -1
  let samples = 0
  let last = process.hrtime.bigint()
  const started = last
  const elapsed = (): number => Number(process.hrtime.bigint() - started) / 1e6
  await admin.call('CLIENT', 'KILL', 'TYPE', 'pubsub')
  const logout = Promise.resolve(writer.end(sid, expiresAt)).then(() => elapsed())
  while (true) {
    const state = probe(mirror, sid)
    const now = process.hrtime.bigint()
    samples++
    // Each sample that throws counts the time since the previous one as time without the mirror.
    if (state === 'throws') {
      unavailable += Number(now - last) / 1e6
      if (firstThrow < 0) firstThrow = elapsed()
    }
    last = now
    if (state === 'ended') { honoured = elapsed(); break }
    if (elapsed() > 60_000) throw new Error('the logout was not honoured within 60 s')
    await sleep(SAMPLE_MS)
  }
  const logoutAckMs = await logout
  await Promise.all([mirror.close(), writer.close()])
  host.disconnect()
  writerClient.disconnect()
  return { unavailableMs: Math.round(unavailable), firstThrowMs: Math.round(firstThrow), honouredMs: Math.round(honoured), logoutAckMs: Math.round(logoutAckMs), samples }
}

/**
 * One load run in a fresh process: a process that loaded once keeps the heap it reserved, so a
 * second load in it would show almost no RSS growth.
 */
function loadRunApart (): LoadRun {
  const result = spawnSync(process.execPath, ['--expose-gc', '--import', 'tsx', __filename, 'load'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] })
  if (result.status !== 0) throw new Error('a load run failed')
  return JSON.parse(result.stdout.split('\nJSON ')[1] as string) as LoadRun
}

async function main (): Promise<void> {
  if (process.argv[2] === 'load') {
    process.stdout.write(`\nJSON ${JSON.stringify(await loadRun())}`)
    return
  }
  const loads: LoadRun[] = []
  for (let run = 1; run <= LOAD_RUNS; run++) {
    const result = loadRunApart()
    loads.push(result)
    console.log(`load ${run}/${LOAD_RUNS}: ${LOAD_ENTRIES} entries ready in ${result.readyMs} ms (CPU: this process ${result.nodeCpuMs} ms, redis-server ${result.redisCpuMs} ms), RSS +${result.rssMb} MB (heap in use +${result.heapMb} MB, heap reserved +${result.heapTotalMb} MB, external +${result.externalMb} MB); the walk alone: SCAN ${result.walkMs.scan} ms, the load with no copy (SCAN inside its script) ${result.walkMs.load} ms, SCAN then a script per step ${result.walkMs.split} ms`)
  }

  const blips: BlipRun[] = []
  // BENCH_REDIS_BLIP_RUNS=0 skips the blip part, its Redis and its fill.
  const redis = BLIP_RUNS > 0 ? await startRedis() : undefined
  if (redis !== undefined) {
    try {
      const admin = await connected(client(redis.port))
      await fill(admin, BLIP_ENTRIES)
      for (let run = 1; run <= BLIP_RUNS; run++) {
        const result = await blipRun(redis, admin)
        blips.push(result)
        console.log(`blip ${run}/${BLIP_RUNS}: ${BLIP_ENTRIES} entries, session() threw for ${result.unavailableMs} ms (from ${result.firstThrowMs} ms after the kill), logout acknowledged at ${result.logoutAckMs} ms, honoured by the mirror at ${result.honouredMs} ms (${result.samples} samples)`)
      }
      admin.disconnect()
    } finally {
      await redis.stop()
    }
  }

  const summary = {
    load: { entries: LOAD_ENTRIES, runs: loads, readyMs: median(loads.map((run) => run.readyMs)), rssMb: median(loads.map((run) => run.rssMb)), heapMb: median(loads.map((run) => run.heapMb)), nodeCpuMs: median(loads.map((run) => run.nodeCpuMs)), redisCpuMs: median(loads.map((run) => run.redisCpuMs)), targets: { readyMs: 10_000, rssMb: 250 } },
    blip: { entries: BLIP_ENTRIES, sampleMs: SAMPLE_MS, runs: blips, unavailableMs: median(blips.map((run) => run.unavailableMs)), honouredMs: median(blips.map((run) => run.honouredMs)), targets: { unavailableMs: 1500, honouredMs: 2000 } }
  }
  const met = (value: number, target: number): string => value <= target ? 'met' : 'NOT met'
  console.log(`\nredis mirror, median of ${LOAD_RUNS} load runs and ${BLIP_RUNS} blip runs:`)
  console.log(`  load ${LOAD_ENTRIES}: ready in ${summary.load.readyMs} ms (target <= 10000: ${met(summary.load.readyMs, 10_000)}), RSS +${summary.load.rssMb} MB (target <= 250: ${met(summary.load.rssMb, 250)})`)
  // On a busy machine the time waits for a core; the CPU each side spent is the steadier figure.
  console.log(`  load CPU: ${summary.load.nodeCpuMs} ms in this process, ${summary.load.redisCpuMs} ms in redis-server`)
  if (BLIP_RUNS > 0) console.log(`  blip at ${BLIP_ENTRIES}: ${summary.blip.unavailableMs} ms of 503 (target <= 1500: ${met(summary.blip.unavailableMs, 1500)}), logout honoured at ${summary.blip.honouredMs} ms (target <= 2000: ${met(summary.blip.honouredMs, 2000)})`)
  process.stdout.write(`\nJSON ${JSON.stringify(summary)}`)
}

main().catch((error: unknown) => {
  console.error(error)
  process.exit(1)
})
