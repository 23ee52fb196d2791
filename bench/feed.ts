/**
 * The revocation feed, measured (run with --expose-gc): an issuer in a process of its own
 * (`feed-issuer.ts`), consumers in this one.
 * - latency: a logout answered at the issuer, to the first 401 at a consumer, over
 *   `FEED_LOGOUTS` (1,000) logouts;
 * - start-up: a consumer started while `FEED_PREFILL` (200,000) revocations are in force, until
 *   it answers (its copy current), and its RSS growth;
 * - fan-out: 50 consumers following one issuer, the issuer's CPU per revocation beyond what the
 *   same revocations cost it with no reader, and the consumers' CPU per revocation each.
 * Prints a table and, after `JSON `, the figures. Not part of the package.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { randomBytes } from 'node:crypto'
import { setTimeout as sleep } from 'node:timers/promises'
import Fastify, { type FastifyInstance } from 'fastify'
import jwtAuth from 'fastify-jwt-session'
import { FEED_ISSUER } from './feed-issuer'
import { canPin } from './http'

const env = process.env
const LOGOUTS = Number(env.FEED_LOGOUTS ?? 1000)
const PREFILL = Number(env.FEED_PREFILL ?? 200_000)
const CONSUMERS = Number(env.FEED_CONSUMERS ?? 50)
const FANOUT_REVOCATIONS = Number(env.FEED_FANOUT_REVOCATIONS ?? 2000)
const SECRET = randomBytes(32).toString('base64url')

interface Issuer { url: string, child: ChildProcess }

/** Starts the issuer holding `prefill` ended sessions (on core 1 when pinning works: the consumers run on core 0). */
async function startIssuer (prefill: number): Promise<Issuer> {
  const command = [process.execPath, '--import', 'tsx', 'bench/feed-issuer.ts']
  const child = spawn(canPin ? 'taskset' : command[0] as string, canPin ? ['-c', '1', ...command] : command.slice(1), {
    stdio: ['ignore', 'pipe', 'inherit'],
    env: { ...env, BENCH_FEED_ISSUER: '1', BENCH_SECRET: SECRET, FEED_PREFILL: String(prefill) }
  })
  const port = await new Promise<number>((resolve, reject) => {
    child.stdout?.on('data', (data: Buffer) => {
      const match = /listening (\d+)/.exec(data.toString())
      if (match !== null) resolve(Number(match[1]))
    })
    child.once('exit', () => { reject(new Error('the feed issuer exited')) })
  })
  return { url: `http://127.0.0.1:${port}`, child }
}

async function stopIssuer (issuer: Issuer): Promise<void> {
  const exited = new Promise((resolve) => issuer.child.once('exit', resolve))
  issuer.child.kill('SIGTERM')
  await exited
}

/** CPU time (µs) a process has used, from `/proc/<pid>/stat` (utime + stime, in clock ticks of 10 ms). */
function cpuOf (pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? []
  return (Number(fields[11]) + Number(fields[12])) * 10_000
}

/** The issuer's own pid: the child is `taskset`'s exec of node, the same process. */
const pidOf = (issuer: Issuer): number => issuer.child.pid as number

/** A verify-only consumer of `issuer`'s feed. */
async function consumer (issuer: Issuer): Promise<FastifyInstance> {
  const app = Fastify({ logger: false })
  await app.register(jwtAuth, { secret: SECRET, issuer: FEED_ISSUER, routes: false, followRevocations: { url: `${issuer.url}/@revocations`, maxStaleness: 5 } })
  app.get('/me', { onRequest: app.authenticate }, async () => ({ ok: true }))
  await app.ready()
  return app
}

const statusOf = async (app: FastifyInstance, token: string): Promise<number> =>
  (await app.inject({ url: '/me', headers: { authorization: `Bearer ${token}` } })).statusCode

async function post (url: string, body: unknown, token?: string): Promise<Response> {
  return await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...(token === undefined ? {} : { authorization: `Bearer ${token}` }) }, body: JSON.stringify(body) })
}

/** Waits until `app` answers `token` with something other than 503: its copy is current. */
async function current (app: FastifyInstance, token: string): Promise<void> {
  while (await statusOf(app, token) === 503) await sleep(1)
}

function percentile (values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.min(sorted.length - 1, Math.ceil(p * sorted.length) - 1)] as number
}

async function latency (): Promise<{ logouts: number, p50: number, p99: number, max: number }> {
  const issuer = await startIssuer(0)
  const app = await consumer(issuer)
  try {
    const samples: number[] = []
    for (let index = 0; index < LOGOUTS; index++) {
      const { token } = await (await post(`${issuer.url}/@login`, { login: `user-${index}`, password: 'x' })).json() as { token: string }
      if (index === 0) await current(app, token)
      const response = await post(`${issuer.url}/@logout`, {}, token)
      const answered = performance.now()
      if (response.status !== 204) throw new Error(`logout answered ${response.status}`)
      // Polled on every turn of the event loop: the event is taken as soon as its bytes arrive.
      while (await statusOf(app, token) !== 401) await new Promise((resolve) => setImmediate(resolve))
      samples.push(performance.now() - answered)
    }
    return { logouts: LOGOUTS, p50: Number(percentile(samples, 0.5).toFixed(2)), p99: Number(percentile(samples, 0.99).toFixed(2)), max: Number(Math.max(...samples).toFixed(2)) }
  } finally {
    await app.close()
    await stopIssuer(issuer)
  }
}

function rss (): number {
  (globalThis as { gc?: () => void }).gc?.()
  return process.memoryUsage().rss
}

async function startup (): Promise<{ revocations: number, readyMs: number, rssGrowthMB: number }> {
  const issuer = await startIssuer(PREFILL)
  try {
    const { token } = await (await post(`${issuer.url}/@login`, { login: 'alice', password: 'x' })).json() as { token: string }
    const before = rss()
    const started = performance.now()
    const app = await consumer(issuer)
    await current(app, token)
    const readyMs = performance.now() - started
    const growth = rss() - before
    await app.close()
    return { revocations: PREFILL, readyMs: Math.round(readyMs), rssGrowthMB: Number((growth / 1048576).toFixed(1)) }
  } finally {
    await stopIssuer(issuer)
  }
}

/** The issuer's CPU (µs) for `count` revocations, and this process's (the consumers'). */
async function revokeAndMeasure (issuer: Issuer, count: number, settled: () => Promise<void>): Promise<{ issuer: number, consumers: number }> {
  const issuerBefore = cpuOf(pidOf(issuer))
  const consumersBefore = process.cpuUsage()
  await post(`${issuer.url}/bench/revoke?count=${count}`, {})
  await settled()
  const used = process.cpuUsage(consumersBefore)
  return { issuer: cpuOf(pidOf(issuer)) - issuerBefore, consumers: used.user + used.system }
}

async function fanout (): Promise<{ consumers: number, revocations: number, issuerCpuUsPerRevocation: number, issuerCpuUsPerRevocationAndReader: number, consumerCpuUsPerRevocation: number }> {
  const issuer = await startIssuer(0)
  const apps: FastifyInstance[] = []
  try {
    const { token } = await (await post(`${issuer.url}/@login`, { login: 'alice', password: 'x' })).json() as { token: string }
    // The same revocations with no reader: what they cost the issuer without the feed.
    await revokeAndMeasure(issuer, FANOUT_REVOCATIONS, async () => {})
    const alone = await revokeAndMeasure(issuer, FANOUT_REVOCATIONS, async () => {})
    for (let index = 0; index < CONSUMERS; index++) apps.push(await consumer(issuer))
    for (const app of apps) await current(app, token)
    // Every consumer has taken the last revocation once a logout made after them is refused by all.
    const marker = async (): Promise<void> => {
      await post(`${issuer.url}/@logout`, {}, token)
      for (const app of apps) while (await statusOf(app, token) !== 401) await sleep(1)
    }
    const fed = await revokeAndMeasure(issuer, FANOUT_REVOCATIONS, marker)
    const extra = Math.max(0, fed.issuer - alone.issuer)
    return {
      consumers: CONSUMERS,
      revocations: FANOUT_REVOCATIONS,
      issuerCpuUsPerRevocation: Number((extra / FANOUT_REVOCATIONS).toFixed(1)),
      issuerCpuUsPerRevocationAndReader: Number((extra / FANOUT_REVOCATIONS / CONSUMERS).toFixed(2)),
      consumerCpuUsPerRevocation: Number((fed.consumers / FANOUT_REVOCATIONS / CONSUMERS).toFixed(2))
    }
  } finally {
    for (const app of apps) await app.close()
    await stopIssuer(issuer)
  }
}

async function main (): Promise<void> {
  const figures = { latency: await latency(), startup: await startup(), fanout: await fanout() }
  const { latency: l, startup: s, fanout: f } = figures
  console.log([
    `feed: logout at the issuer to the first 401 at a consumer, over ${l.logouts} logouts: p50 ${l.p50} ms, p99 ${l.p99} ms (target <= 50), max ${l.max} ms`,
    `feed: a consumer started with ${s.revocations} revocations in force: ready in ${s.readyMs} ms (target <= 3000), RSS +${s.rssGrowthMB} MB (target <= 80)`,
    `feed: ${f.consumers} consumers, ${f.revocations} revocations: issuer CPU ${f.issuerCpuUsPerRevocation} µs per revocation (${f.issuerCpuUsPerRevocationAndReader} µs per reader), each consumer ${f.consumerCpuUsPerRevocation} µs`
  ].join('\n'))
  process.stdout.write(`\nJSON ${JSON.stringify(figures)}`)
}

void main()
