/**
 * The HTTP benchmark: each variant in its own server process, driven with autocannon over
 * loopback, in interleaved rounds; ratios are paired within each round, then the median is
 * reported. Not part of the package.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { generateKeyPairSync, randomBytes } from 'node:crypto'
import autocannon from 'autocannon'
import Fastify from 'fastify'
import jwtAuth from 'fastify-jwt-session'
import { FEED_ISSUER as BENCH_ISSUER } from './feed-issuer'

/** V8's state of `process.nextTick` in a server: see `equalizeNextTick` in server.ts. */
export interface V8State { nextTickCalls: number, before: unknown, atListen: unknown, afterLoad?: unknown }

/**
 * What each measured run reports; `cpu` is the server's CPU time per request, in
 * microseconds; `v8` the server's V8 state, recorded so that a run can be checked for it.
 */
export interface Run { rps: number, p99: number, non2xx: number, errors: number, cpu: number, v8?: V8State }

/** A started server: its port, its pid, its process, and its V8 state at `listen`. */
export interface Server { port: number, pid: number, child: ChildProcess, v8: V8State }

/** Keep-alive connections, no pipelining: how browsers and proxies talk to a server. */
const CONNECTIONS = 32

/** A scenario: a server variant and the load it gets. */
interface Row { name: string, variant: string, load: 'none' | 'hot' | 'unique' | 'login' | 'login-one' | 'renew' }

/** A goal of the issue: `row` measured against `reference` in the same round. */
interface Target { name: string, row: string, reference: string, target?: number }

const ALL_ROWS: Row[] = [
  { name: 'bare', variant: 'bare', load: 'none' },
  { name: 'bare + no-op onRequest hook, hot token', variant: 'noop-hook', load: 'hot' },
  { name: '@fastify/jwt, hot token', variant: 'fastify-jwt', load: 'hot' },
  { name: 'HS256, hot token', variant: 'hs256', load: 'hot' },
  // An operator's metrics: a no-op listener on every channel (see server.ts).
  { name: 'HS256, hot token, with a subscriber', variant: 'hs256-subscribed', load: 'hot' },
  { name: '@fastify/jwt, unique tokens', variant: 'fastify-jwt', load: 'unique' },
  { name: 'HS256, unique tokens', variant: 'hs256', load: 'unique' },
  { name: 'HS256 no cache, unique tokens', variant: 'hs256-nocache', load: 'unique' },
  { name: 'ES256, hot token', variant: 'es256', load: 'hot' },
  { name: 'ES256, unique tokens', variant: 'es256', load: 'unique' },
  { name: 'ES256 no cache, unique tokens', variant: 'es256-nocache', load: 'unique' },
  // The floor of an asymmetric token: a bare route whose hook runs only `crypto.verify` (see server.ts).
  { name: 'ES256 crypto.verify only, unique tokens', variant: 'es256-verify-only', load: 'unique' },
  { name: 'EdDSA, unique tokens', variant: 'eddsa', load: 'unique' },
  { name: 'EdDSA crypto.verify only, unique tokens', variant: 'eddsa-verify-only', load: 'unique' },
  { name: 'HS256 + issuer, hot token', variant: 'iss-memory', load: 'hot' },
  { name: 'HS256 + feed follower, hot token', variant: 'iss-follower', load: 'hot' },
  { name: 'HS256 + Redis mirror, hot token', variant: 'redis-mirror', load: 'hot' },
  { name: 'HS256 + Redis lookup, hot token', variant: 'redis-lookup', load: 'hot' },
  { name: '@fastify/jwt sign route', variant: 'fastify-jwt-login', load: 'login' },
  { name: 'login route', variant: 'hs256', load: 'login' },
  { name: 'login route, no throttle', variant: 'hs256-nothrottle', load: 'login' },
  { name: 'login route, no registry', variant: 'hs256-noregistry', load: 'login' },
  // Every login one user's: past maxSessionsPerUser (50) each one also ends the least recently used and folds.
  { name: 'login route, one user at the cap', variant: 'hs256', load: 'login-one' },
  { name: 'login (registry, Redis)', variant: 'redis-login', load: 'login' },
  { name: 'login (registry, Redis), one user at the cap', variant: 'redis-login', load: 'login-one' },
  { name: 'renew route', variant: 'hs256', load: 'renew' }
]

/** `BENCH_ROWS`: the names of the rows to run, separated by `;` (all of them when unset), for quick runs. */
const only = process.env.BENCH_ROWS?.split(';').map((name) => name.trim())
export const ROWS: Row[] = only === undefined ? ALL_ROWS : ALL_ROWS.filter((row) => only.includes(row.name))

/**
 * The issue's targets, on Node 24, each measured in one run: the rows with a `target` are its
 * goals; the others are reported for information. The login's reference, '@fastify/jwt sign
 * route', is a bare route that signs one token with @fastify/jwt and does nothing else (it
 * reads and validates the same login body the login route gets).
 */
export const TARGETS: Target[] = [
  { name: 'HS256 hot vs bare', row: 'HS256, hot token', reference: 'bare', target: 0.95 },
  { name: 'no-op hook vs bare (the floor)', row: 'bare + no-op onRequest hook, hot token', reference: 'bare' },
  { name: 'HS256 hot vs @fastify/jwt', row: 'HS256, hot token', reference: '@fastify/jwt, hot token', target: 2.2 },
  { name: 'HS256 hot with vs without a subscriber', row: 'HS256, hot token, with a subscriber', reference: 'HS256, hot token' },
  { name: 'HS256 unique vs bare', row: 'HS256, unique tokens', reference: 'bare', target: 0.5 },
  { name: 'HS256 unique vs @fastify/jwt', row: 'HS256, unique tokens', reference: '@fastify/jwt, unique tokens', target: 1.3 },
  { name: 'ES256 unique vs crypto.verify only', row: 'ES256, unique tokens', reference: 'ES256 crypto.verify only, unique tokens', target: 0.9 },
  { name: 'EdDSA unique vs crypto.verify only', row: 'EdDSA, unique tokens', reference: 'EdDSA crypto.verify only, unique tokens' },
  { name: 'ES256 hot vs bare', row: 'ES256, hot token', reference: 'bare' },
  { name: 'HS256 working set > cache vs no cache', row: 'HS256, unique tokens', reference: 'HS256 no cache, unique tokens' },
  { name: 'ES256 working set > cache vs no cache', row: 'ES256, unique tokens', reference: 'ES256 no cache, unique tokens' },
  { name: 'Redis mirror vs memory store', row: 'HS256 + Redis mirror, hot token', reference: 'HS256, hot token', target: 0.95 },
  { name: 'feed follower vs memory store', row: 'HS256 + feed follower, hot token', reference: 'HS256 + issuer, hot token', target: 0.97 },
  { name: 'Redis lookup vs memory store', row: 'HS256 + Redis lookup, hot token', reference: 'HS256, hot token' },
  { name: 'login vs @fastify/jwt sign route', row: 'login route', reference: '@fastify/jwt sign route', target: 1.0 },
  { name: 'login with vs without the throttle', row: 'login route', reference: 'login route, no throttle' },
  { name: 'login with vs without the registry', row: 'login route', reference: 'login route, no registry', target: 0.9 },
  { name: 'login, one user at the cap vs many users', row: 'login route, one user at the cap', reference: 'login route' },
  { name: 'login, registry in Redis vs in memory', row: 'login (registry, Redis)', reference: 'login route, no throttle' },
  { name: 'login on Redis, one user at the cap vs many users', row: 'login (registry, Redis), one user at the cap', reference: 'login (registry, Redis)' },
  { name: 'renew vs @fastify/jwt sign route', row: 'renew route', reference: '@fastify/jwt sign route' }
].filter((target) => ROWS.some((row) => row.name === target.row) && ROWS.some((row) => row.name === target.reference))

/** Users the login rows log in, in turn. */
const LOGIN_USERS = 100_000

/** More distinct tokens than the verified-token cache holds (10,000), cycled. */
const UNIQUE_TOKENS = 30_000

/**
 * Tokens for the renew row: a renewal retires its token, so each is used once per server;
 * enough for the warm-up and the measured run of one server at well over 10,000 renewals a
 * second (each server starts with an empty store, so every server can use them all again).
 */
const RENEW_TOKENS = 150_000

/** A key pair in PEM. */
interface Pem { privateKey: string, publicKey: string }

/** Which tokens a variant gets: those signed with its algorithm. */
type Algorithm = 'hs256' | 'es256' | 'eddsa' | 'iss'

/** Keys and tokens shared by the harness and the servers. */
export interface Material { secret: string, es256: Pem, eddsa: Pem, tokens: Record<Algorithm, { hot: string, unique: string[] }>, renew: string[] }

function pem (pair: ReturnType<typeof generateKeyPairSync>): Pem {
  return { privateKey: pair.privateKey.export({ type: 'pkcs8', format: 'pem' }) as string, publicKey: pair.publicKey.export({ type: 'spki', format: 'pem' }) as string }
}

/** The tokens a variant's requests carry: `es256…` and `eddsa…` variants get tokens signed with those keys. */
function algorithmOf (variant: string): Algorithm {
  if (variant.startsWith('iss-')) return 'iss'
  return variant.startsWith('es256') ? 'es256' : variant.startsWith('eddsa') ? 'eddsa' : 'hs256'
}

/** Signs the tokens with the plugin itself, so that they are exactly what it issues. */
export async function makeMaterial (count = UNIQUE_TOKENS, renewCount = ROWS.some((row) => row.load === 'renew') ? RENEW_TOKENS : 0): Promise<Material> {
  const secret = randomBytes(32).toString('base64url')
  const es256 = pem(generateKeyPairSync('ec', { namedCurve: 'P-256' }))
  const eddsa = pem(generateKeyPairSync('ed25519'))
  // Keys no row uses are not signed with (30,000 EdDSA or ES256 tokens take a second or two).
  const uses = (algorithm: Algorithm): boolean => ROWS.some((row) => algorithmOf(row.variant) === algorithm)
  const none = { hot: '', unique: [] }
  const signer = async (options: Parameters<typeof jwtAuth>[1], renewals = 0): Promise<{ hot: string, unique: string[], renew: string[] }> => {
    const app = Fastify()
    await app.register(jwtAuth, { ...options, routes: false })
    const unique = Array.from({ length: count }, (_, index) => app.jwtAuth.sign({ sub: `user-${index}`, roles: ['user'] }))
    const hot = app.jwtAuth.sign({ sub: 'hot', roles: ['user'] })
    const renew = Array.from({ length: renewals }, (_, index) => app.jwtAuth.sign({ sub: `user-${index}`, roles: ['user'] }))
    await app.close()
    return { hot, unique, renew }
  }
  const { renew, ...hs256 } = await signer({ secret }, renewCount)
  const { renew: _es256, ...es256Tokens } = uses('es256') ? await signer({ keys: [{ kid: 'bench', algorithm: 'ES256', ...es256 }] }) : { renew: [], ...none }
  const { renew: _eddsa, ...eddsaTokens } = uses('eddsa') ? await signer({ keys: [{ kid: 'bench', algorithm: 'EdDSA', ...eddsa }] }) : { renew: [], ...none }
  // A follower needs an issuer, and so its tokens an `iss`: the follower's row is compared with the same tokens on a memory store.
  const { renew: _iss, ...issTokens } = uses('iss') ? await signer({ secret, issuer: BENCH_ISSUER }) : { renew: [], ...none }
  return { secret, es256, eddsa, tokens: { hs256, es256: es256Tokens, eddsa: eddsaTokens, iss: issTokens }, renew }
}

/** Whether `taskset` can pin processes to cores here. */
export const canPin = spawnSync('taskset', ['-c', '0', 'true']).status === 0

/** Starts a variant's server on core 0 (when it can be pinned); resolves with its port and V8 state. */
export async function startServer (variant: string, material: Material, redisUrl: string | undefined): Promise<Server> {
  const command = [process.execPath, '--allow-natives-syntax', '--import', 'tsx', 'bench/server.ts']
  const child = spawn(canPin ? 'taskset' : command[0] as string, canPin ? ['-c', '0', ...command] : command.slice(1), {
    stdio: ['ignore', 'pipe', 'inherit'],
    env: {
      ...process.env,
      BENCH_VARIANT: variant,
      BENCH_SECRET: material.secret,
      BENCH_ES256_PRIVATE: material.es256.privateKey,
      BENCH_ES256_PUBLIC: material.es256.publicKey,
      BENCH_EDDSA_PRIVATE: material.eddsa.privateKey,
      BENCH_EDDSA_PUBLIC: material.eddsa.publicKey,
      ...(redisUrl === undefined ? {} : { REDIS_URL: redisUrl })
    }
  })
  const { port, v8 } = await new Promise<{ port: number, v8: V8State }>((resolve, reject) => {
    child.stdout?.on('data', (chunk: Buffer) => {
      const match = /listening (\d+) v8 (.*)\n/.exec(String(chunk))
      if (match !== null) resolve({ port: Number(match[1]), v8: JSON.parse(match[2] as string) })
    })
    child.once('exit', (code) => reject(new Error(`bench server ${variant} exited with ${code}`)))
  })
  // taskset execs node in place, so the child's pid is the server's.
  return { port, pid: child.pid as number, child, v8 }
}

/** Stops a server; resolves with V8's state of `process.nextTick` after the load. */
export async function stopServer (child: ChildProcess): Promise<unknown> {
  let afterLoad: unknown
  child.stdout?.on('data', (chunk: Buffer) => {
    const match = /stopped v8 (.*)\n/.exec(String(chunk))
    if (match !== null) afterLoad = JSON.parse(match[1] as string)
  })
  await new Promise((resolve) => { child.once('exit', resolve); child.kill('SIGTERM') })
  return afterLoad
}

/** User plus system CPU time of a process so far, in microseconds (Linux: /proc, 100 ticks a second). */
function cpuTime (pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? []
  return (Number(fields[11]) + Number(fields[12])) * 10_000
}

/**
 * Each connection cycles through its own slice of the tokens, built once: every request then
 * carries a token not seen for as many requests as there are tokens (more than the cache
 * holds), and the load generator does no work per request to vary it.
 */
function sliceTokens (tokens: string[]): Array<Array<{ headers: Record<string, string> }>> {
  return Array.from({ length: CONNECTIONS }, (_, slice) =>
    tokens.filter((_, index) => index % CONNECTIONS === slice).map((token) => ({ headers: { authorization: `Bearer ${token}` } })))
}

/** The next unused renew token of the server being driven (see `resetRenewTokens`). */
let renewNext = 0
function nextRenewToken (material: Material): string {
  const token = material.renew[renewNext++]
  if (token === undefined) throw new Error('out of renew tokens: raise RENEW_TOKENS')
  return token
}

/** A new server has an empty store: it can renew every token again. */
export function resetRenewTokens (): void {
  renewNext = 0
}

/** Drives `port` (the server `pid`) with the row's load for `seconds`. */
export async function load (row: Row, port: number, pid: number, material: Material, seconds: number): Promise<Run> {
  const tokens = material.tokens[algorithmOf(row.variant)]
  const options: autocannon.Options = { url: `http://127.0.0.1:${port}/hello`, connections: CONNECTIONS, duration: seconds }
  if (row.load === 'hot') options.headers = { authorization: `Bearer ${tokens.hot}` }
  if (row.load === 'unique') {
    const slices = sliceTokens(tokens.unique)
    let client = 0
    options.setupClient = (each) => { each.setRequests(slices[client++ % CONNECTIONS] as autocannon.Request[]) }
  }
  if (row.load === 'renew') {
    // Each renewal retires its token: every request takes the next unused one (this row runs far below the rate at which building a request here costs anything).
    Object.assign(options, {
      url: `http://127.0.0.1:${port}/@login-renew`,
      requests: [{ method: 'POST', setupRequest: (request: autocannon.Request) => ({ ...request, headers: { authorization: `Bearer ${nextRenewToken(material)}` } }) }]
    })
  }
  if (row.load === 'login-one') {
    Object.assign(options, {
      url: `http://127.0.0.1:${port}/@login`,
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ login: 'bench', password: 'irrelevant' })
    })
  }
  if (row.load === 'login') {
    // Users as an app has them: each login another user's (cycling through LOGIN_USERS), so each holds a few sessions.
    let user = 0
    const body = (): string => JSON.stringify({ login: `user-${user++ % LOGIN_USERS}`, password: 'irrelevant' })
    Object.assign(options, {
      url: `http://127.0.0.1:${port}/@login`,
      requests: [{ method: 'POST', setupRequest: (request: autocannon.Request) => ({ ...request, headers: { 'content-type': 'application/json' }, body: body() }) }]
    })
  }
  const cpuBefore = cpuTime(pid)
  const result = await autocannon(options)
  const cpu = (cpuTime(pid) - cpuBefore) / Math.max(1, result.requests.total)
  return { rps: result.requests.average, p99: result.latency.p99, non2xx: result.non2xx, errors: result.errors + result.timeouts, cpu: Number(cpu.toFixed(1)) }
}

export function median (values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b)
  const middle = Math.floor(sorted.length / 2)
  return sorted.length % 2 === 1 ? sorted[middle] as number : ((sorted[middle - 1] as number) + (sorted[middle] as number)) / 2
}
