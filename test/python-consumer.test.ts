import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { createServer as createHttpServer, get } from 'node:http'
import { createServer } from 'node:net'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { createSigner } from 'fast-jwt'
import { test, type Test } from 'tap'
import { bearer, decodePayload, SECRET } from './helpers'
import { FEED_HEADERS, ISSUER, issuerApp, loginAt, memoryStore } from './feed-helpers'

/*
 * The Python example (examples/python: Flask, PyJWT, requests) follows a real issuer's feed as
 * the README documents it for other languages: a logout, a logout everywhere and a renewal at
 * the issuer are refused by the Python service, which answers 503 until its first snapshot.
 * Python and Debian's python3-flask, python3-jwt, python3-requests (and python3-cryptography
 * for ES256) are required: .ci/run installs them; without them this test fails, it never skips.
 */

const MODULES = ['flask', 'jwt', 'requests', 'cryptography']
const APP = join(__dirname, '..', 'examples', 'python', 'app.py')

/**
 * The interpreter to run: `PYTHON` when set, else `python3` on the PATH, else Debian's own
 * (where apt installs the modules, when the PATH's python3 is another installation).
 */
function findPython (): { python?: string, problems: string[] } {
  const candidates = process.env.PYTHON !== undefined && process.env.PYTHON !== '' ? [process.env.PYTHON] : ['python3', '/usr/bin/python3']
  const problems: string[] = []
  for (const python of candidates) {
    const result = spawnSync(python, ['-c', `import ${MODULES.join(', ')}`], { encoding: 'utf8', timeout: 20_000 })
    if (result.status === 0) return { python, problems }
    problems.push(`${python}: ${result.error?.message ?? result.stderr.trim().split('\n').at(-1)}`)
  }
  return { problems }
}

const found = findPython()

/** A port nothing listens on now. */
async function freePort (): Promise<number> {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as { port: number }
  await new Promise((resolve) => server.close(resolve))
  return port
}

/** Polls `check` every 50 ms for at most `ms`. */
async function within (ms: number, check: () => Promise<boolean>): Promise<boolean> {
  const end = Date.now() + ms
  while (Date.now() < end) {
    if (await check().catch(() => false)) return true
    await sleep(50)
  }
  return false
}

interface PythonService { url: string, child: ChildProcess, output: () => string }

/** Starts the Python service on a free port; killed by its pid in teardown. Answers once it answers HTTP. */
async function startPython (t: Test, env: Record<string, string>): Promise<PythonService> {
  if (found.python === undefined) throw new Error(`python3 with ${MODULES.join(', ')} is required (Debian: apt-get install python3-flask python3-jwt python3-requests python3-cryptography): ${found.problems.join('; ')}`)
  const port = await freePort()
  let output = ''
  const child = spawn(found.python, [APP], {
    env: {
      ...process.env,
      PYTHONUNBUFFERED: '1',
      PYTHONDONTWRITEBYTECODE: '1',
      HOST: '127.0.0.1',
      PORT: String(port),
      FEED_KEY: FEED_HEADERS['x-feed-key'],
      JWT_ISSUER: ISSUER,
      JWT_SECRET: '',
      JWT_AUDIENCE: '',
      // Two seconds: the tests run beside others on two cores; a heartbeat comes every 500 ms.
      MAX_STALENESS: '2',
      RENEW_GRACE: '0',
      CLOCK_TOLERANCE: '5',
      ...env
    },
    stdio: ['ignore', 'pipe', 'pipe']
  })
  child.stdout?.on('data', (chunk: Buffer) => { output += chunk.toString() })
  child.stderr?.on('data', (chunk: Buffer) => { output += chunk.toString() })
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
  t.teardown(async () => {
    if (child.exitCode !== null || child.signalCode !== null) return
    process.kill(child.pid as number, 'SIGTERM')
    const timer = setTimeout(() => child.pid !== undefined && child.exitCode === null && process.kill(child.pid, 'SIGKILL'), 3000)
    await exited
    clearTimeout(timer)
  })
  const url = `http://127.0.0.1:${port}`
  const up = await within(15_000, async () => {
    if (child.exitCode !== null) throw new Error('exited')
    await fetch(`${url}/orders`)
    return true
  })
  if (!up) throw new Error(`the Python service did not start within 15 s:\n${output}`)
  return { url, child, output: () => output }
}

/** The Python service's answer to `token` on GET /orders. */
async function pythonStatus (service: PythonService, token: string): Promise<number> {
  return (await fetch(`${service.url}/orders`, { headers: bearer(token) })).status
}

/** Env for the Python service against `issuer`: HS256 with the secret, or ES256 through its JWKS. */
function pythonEnv (issuerUrl: string, mode: 'secret' | 'jwks'): Record<string, string> {
  return mode === 'secret' ? { ISSUER_URL: issuerUrl, JWT_SECRET: SECRET } : { ISSUER_URL: issuerUrl, JWT_AUDIENCE: 'api' }
}

test('python3 with Flask, PyJWT, requests and cryptography is there (CI installs them)', async (t) => {
  t.ok(found.python, `found: ${found.python ?? `none (${found.problems.join('; ')})`}`)
})

for (const mode of ['secret', 'jwks'] as const) {
  test(`the Python service refuses tokens logged out at the issuer (${mode})`, async (t) => {
    const issuer = await issuerApp(t, memoryStore(), { keys: mode === 'jwks' })
    const python = await startPython(t, pythonEnv(issuer.url, mode))
    const wait = async (token: string, status: number): Promise<boolean> => await within(10_000, async () => await pythonStatus(python, token) === status)

    const alice = await loginAt(issuer.app)
    t.ok(await wait(alice, 200), 'a fresh token passes once the snapshot is in')
    const body = await (await fetch(`${python.url}/orders`, { headers: bearer(alice) })).json()
    t.same(body, { user: 'u-alice', orders: [] }, 'the route answers for the token\'s user')
    t.equal(await pythonStatus(python, 'not.a.token'), 401, 'garbage is refused')
    t.equal((await fetch(`${python.url}/orders`)).status, 401, 'no token is refused')

    // Logout: the session ended.
    t.equal((await issuer.app.inject({ method: 'POST', url: '/@logout', headers: bearer(alice) })).statusCode, 204)
    t.ok(await wait(alice, 401), 'a logged-out token is refused')
    t.equal((await (await fetch(`${python.url}/orders`, { headers: bearer(alice) })).json() as { code: string }).code, 'FST_JWT_SESSION_REVOKED_TOKEN', 'as revoked')

    // Logout everywhere: every session of the user that logged in until then, the other one too.
    const [bob, bobElsewhere] = [await loginAt(issuer.app, 'bob'), await loginAt(issuer.app, 'bob')]
    t.ok(await wait(bobElsewhere, 200), 'bob\'s other session passes')
    t.equal((await issuer.app.inject({ method: 'POST', url: '/@logout', headers: bearer(bob), payload: { all: true } })).statusCode, 204)
    t.ok(await wait(bobElsewhere, 401), 'logout everywhere reaches bob\'s other session')
    t.ok(await wait(bob, 401), 'and the one that asked')
    const bobAgain = await loginAt(issuer.app, 'bob')
    t.ok(await wait(bobAgain, 200), 'a login after it passes')

    // A renewal retires the old generation (renewGrace 0 at the issuer and here).
    const carol = await loginAt(issuer.app)
    t.ok(await wait(carol, 200))
    const renewed = (await issuer.app.inject({ method: 'POST', url: '/@login-renew', headers: bearer(carol) })).json().token as string
    t.ok(await wait(carol, 401), 'the renewed-away token is refused')
    t.ok(await wait(renewed, 200), 'its successor passes')

    // A SET of the feed is no access token, though signed with the same key.
    const set = await firstSet(issuer.url)
    t.equal(await pythonStatus(python, set), 401, 'a SET is refused as a token')
  })
}

/** One SET from the issuer's feed; the connection is destroyed at once. */
async function firstSet (url: string): Promise<string> {
  return await new Promise((resolve, reject) => {
    const request = get(`${url}/@revocations`, { headers: FEED_HEADERS }, (response) => {
      let text = ''
      response.on('data', (chunk: Buffer) => {
        text += chunk.toString()
        const set = /data: (\S+)\n/.exec(text)?.[1]
        if (set === undefined) return
        request.destroy()
        resolve(set)
      })
    })
    request.on('error', reject)
  })
}

test('the Python service answers 503 while the issuer is away, then follows it once it is back', async (t) => {
  const store = memoryStore()
  const first = await issuerApp(t, store)
  const token = await loginAt(first.app)
  await first.app.close()
  const python = await startPython(t, pythonEnv(first.url, 'secret'))
  const early = await fetch(`${python.url}/orders`, { headers: bearer(token) })
  t.equal(early.status, 503, 'no snapshot yet: 503')
  t.equal((await early.json() as { code: string }).code, 'FST_JWT_SESSION_STORE_UNAVAILABLE')
  t.equal(early.headers.get('retry-after'), '1', 'with Retry-After')
  await sleep(1500)
  t.equal(await pythonStatus(python, token), 503, 'still 503 while the issuer is down')

  const issuer = await issuerApp(t, store, { port: first.port })
  t.ok(await within(10_000, async () => await pythonStatus(python, token) === 200), 'ready once the snapshot is in')

  // Stopped again: 503 once nothing was heard for MAX_STALENESS; a session ended meanwhile is refused once back, never 200.
  await issuer.app.close()
  t.ok(await within(10_000, async () => await pythonStatus(python, token) === 503), '503 once the feed is stale')
  const claims = decodePayload(token)
  store.end(claims.sid, claims.exp + 60)
  await issuerApp(t, store, { port: first.port })
  const seen = new Set<number>()
  t.ok(await within(10_000, async () => {
    const status = await pythonStatus(python, token)
    seen.add(status)
    return status === 401
  }), 'the session ended while it was away is refused')
  t.notOk(seen.has(200), 'never 200 on the way')
})

/** A feed server of its own making: a snapshot with a cursor, then a heartbeat every 300 ms, each signed by `sign`. */
async function fakeFeed (t: Test, sign: (events: Record<string, unknown>) => string): Promise<string> {
  const server = createHttpServer((request, response) => {
    response.writeHead(200, { 'content-type': 'text/event-stream' })
    response.write(`id: c1\ndata: ${sign({ 'urn:fastify-jwt-session:event:snapshot': { sessions: [], subjects: [], last: true } })}\n\n`)
    const beat = (): boolean => response.write(`data: ${sign({ 'urn:fastify-jwt-session:event:heartbeat': {} })}\n\n`)
    beat()
    const timer = setInterval(beat, 300)
    response.on('close', () => clearInterval(timer))
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  t.teardown(async () => {
    server.closeAllConnections()
    await new Promise((resolve) => server.close(resolve))
  })
  return `http://127.0.0.1:${(server.address() as { port: number }).port}`
}

test('the Python service verifies every SET: a feed that fails a check leaves it at 503', async (t) => {
  const issuer = await issuerApp(t, memoryStore())
  const token = await loginAt(issuer.app)
  const now = (): number => Math.floor(Date.now() / 1000)
  const signer = (key: string, typ: string) => createSigner({ key, algorithm: 'HS256', header: { alg: 'HS256', typ } })
  const good = signer(SECRET, 'secevent+jwt')
  const claims = (events: Record<string, unknown>): Record<string, unknown> => ({ iss: ISSUER, iat: now(), jti: randomBytes(16).toString('base64url'), events })
  const feeds: Record<string, (events: Record<string, unknown>) => string> = {
    'another key': (events) => signer('another-secret-of-at-least-32-bytes!!', 'secevent+jwt')(claims(events)),
    'typ JWT': (events) => signer(SECRET, 'JWT')(claims(events)),
    'another issuer': (events) => good({ ...claims(events), iss: 'https://elsewhere.test' }),
    'iat three minutes ago': (events) => good({ ...claims(events), iat: now() - 180 }),
    'iat a minute ahead': (events) => good({ ...claims(events), iat: now() + 60 }),
    'a replayed jti': (events) => good({ ...claims(events), jti: 'the-same-jti-each-time' })
  }
  // The fake feed is right when signed right: the service answers 200.
  const right = await startPython(t, { ISSUER_URL: await fakeFeed(t, (events) => good(claims(events))), JWT_SECRET: SECRET })
  t.ok(await within(10_000, async () => await pythonStatus(right, token) === 200), 'a feed signed right: 200')
  for (const [name, sign] of Object.entries(feeds)) {
    const python = await startPython(t, { ISSUER_URL: await fakeFeed(t, sign), JWT_SECRET: SECRET })
    await sleep(1000)
    const seen = new Set<number>()
    for (let turn = 0; turn < 5; turn++) {
      seen.add(await pythonStatus(python, token))
      await sleep(100)
    }
    t.same([...seen], [503], `${name}: 503, never 200`)
  }
})
