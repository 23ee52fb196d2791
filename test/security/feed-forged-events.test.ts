import { createServer, type ServerResponse } from 'node:http'
import { randomBytes } from 'node:crypto'
import { test } from 'tap'
import Fastify, { type FastifyInstance } from 'fastify'
import jwtAuth from '../../lib/index'
import { bearer, fakeClock, forge, SECRET } from '../helpers'
import { eventually, ISSUER, statusOf } from '../feed-helpers'

/*
 * A follower applies only what the issuer signed for it: an event signed with another key, of
 * another typ or another issuer, or a genuine event sent a second time (which could roll the
 * copy back to an older snapshot), is refused, logged, and no word from the feed. A refused
 * event ends the connection: the follower reconnects from the last event it applied, so an
 * event it could not take is never skipped (nothing after it is taken on that connection).
 */

const SNAPSHOT = 'urn:fastify-jwt-session:event:snapshot'
const HEARTBEAT = 'urn:fastify-jwt-session:event:heartbeat'
const REVOKED = 'https://schemas.openid.net/secevent/caep/event-type/session-revoked'
const REFUSED_WARNING = 'fastify-jwt-session: an event of the revocation feed was refused; reconnecting from the last one applied'

/** A SET as the issuer signs one; each part may be overridden to forge it. */
function set (events: Record<string, unknown>, { key = SECRET, typ = 'secevent+jwt', iss = ISSUER, subject, iat = Math.floor(Date.now() / 1000) }: { key?: string, typ?: string, iss?: string, subject?: string, iat?: number } = {}): string {
  return forge({ alg: 'HS256', typ }, {
    iss, iat, jti: randomBytes(16).toString('base64url'), ...(subject === undefined ? {} : { sub_id: { format: 'opaque', id: subject } }), events
  }, key)
}

/** An SSE frame. */
const frame = (data: string, id?: string): string => `${id === undefined ? '' : `id: ${id}\n`}data: ${data}\n\n`

interface TestIssuer {
  url: string
  /** Connections made so far. */
  connections (): number
  /** The `Last-Event-ID` each connection sent, in order (`undefined` for none). */
  lastEventIds: Array<string | undefined>
  /** Writes frames, in one write, to the newest connection. */
  send (...frames: string[]): void
}

/** A hand-written issuer: it streams what the test writes to its newest reader. */
async function testIssuer (t: { teardown (fn: () => unknown): void }): Promise<TestIssuer> {
  const readers: ServerResponse[] = []
  const lastEventIds: Array<string | undefined> = []
  const server = createServer((request, response) => {
    response.writeHead(200, { 'content-type': 'text/event-stream' })
    readers.push(response)
    lastEventIds.push(request.headers['last-event-id'] as string | undefined)
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  t.teardown(() => {
    for (const reader of readers) reader.destroy()
    server.close()
  })
  return {
    url: `http://127.0.0.1:${(server.address() as { port: number }).port}/@revocations`,
    connections: () => readers.length,
    lastEventIds,
    send (...frames) {
      readers.at(-1)?.write(frames.join(''))
    }
  }
}

/** A consumer of `issuer` that logs its warnings into `warnings`. */
async function consumer (t: { teardown (fn: () => unknown): void }, issuer: TestIssuer, maxStaleness = 5, warnings: string[] = []): Promise<FastifyInstance> {
  const app = Fastify({ logger: { level: 'warn', stream: { write: (line: string) => { warnings.push(line) } } } })
  t.teardown(() => app.close())
  await app.register(jwtAuth, { secret: SECRET, issuer: ISSUER, routes: false, followRevocations: { url: issuer.url, maxStaleness } })
  app.get('/me', { onRequest: app.authenticate }, async (request) => request.user)
  await app.ready()
  return app
}

const sidOf = (token: string): string => JSON.parse(Buffer.from(token.split('.')[1] as string, 'base64url').toString()).sid as string

/** Sends `frames` and waits for the follower to drop that connection and come back. */
async function refusedThenBack (issuer: TestIssuer, ...frames: string[]): Promise<boolean> {
  const before = issuer.connections()
  issuer.send(...frames)
  return await eventually(() => issuer.connections() === before + 1)
}

test('forged and replayed events are refused, logged, and end the connection: the follower resumes from the last event it applied', async (t) => {
  const issuer = await testIssuer(t)
  const warnings: string[] = []
  const app = await consumer(t, issuer, 5, warnings)
  const token = app.jwtAuth.sign({ sub: 'u-alice' })
  const sid = sidOf(token)
  const expiresAt = Math.floor(Date.now() / 1000) + 600
  t.ok(await eventually(() => issuer.connections() === 1), 'the follower connects')

  // A first snapshot (empty) and heartbeats, forged ones first: none of them makes the copy ready.
  const emptySnapshot = set({ [SNAPSHOT]: { sessions: [], subjects: [], last: true } })
  t.ok(await refusedThenBack(issuer, frame(set({ [SNAPSHOT]: { sessions: [], subjects: [], last: true } }, { key: 'another-secret-of-at-least-32-bytes!!' }), 'c.1')), 'a snapshot under another key: reconnects')
  t.ok(await refusedThenBack(issuer, frame(set({ [HEARTBEAT]: {} }, { typ: 'JWT' }))), 'a heartbeat of another typ: reconnects')
  t.ok(await refusedThenBack(issuer, frame(set({ [HEARTBEAT]: {} }, { iss: 'https://evil.test' }))), 'a heartbeat of another issuer: reconnects')
  t.same(issuer.lastEventIds, [undefined, undefined, undefined, undefined], 'no cursor was taken from a refused event')
  t.same(warnings.map((line) => JSON.parse(line).msg), Array(3).fill(REFUSED_WARNING), 'three warnings, one per refused event')
  t.equal(await statusOf(app, token), 503, 'forged events made nothing ready')
  issuer.send(frame(emptySnapshot, 'c.1'), frame(set({ [HEARTBEAT]: {} })))
  t.ok(await eventually(async () => await statusOf(app, token) === 200), 'ready with the genuine snapshot and heartbeat')

  // Forged ends of the session: refused, each one dropping the connection; the next resumes after c.1.
  const forgeries = [
    set({ [REVOKED]: { event_timestamp: 1, expires_at: expiresAt } }, { subject: sid, key: 'another-secret-of-at-least-32-bytes!!' }),
    set({ [REVOKED]: { event_timestamp: 1, expires_at: expiresAt } }, { subject: sid, typ: 'JWT' }),
    set({ [REVOKED]: { event_timestamp: 1, expires_at: expiresAt } }, { subject: sid, iss: 'https://evil.test' }),
    set({ [REVOKED]: { event_timestamp: 'now', expires_at: expiresAt } }, { subject: sid })
  ]
  for (const forged of forgeries) {
    t.ok(await refusedThenBack(issuer, frame(forged, 'c.2')), 'a forged end: reconnects')
    t.equal(issuer.lastEventIds.at(-1), 'c.1', 'from the last event applied')
    t.equal(await statusOf(app, token), 503, 'and vouches for nothing until the issuer has caught it up')
    issuer.send(frame(set({ [HEARTBEAT]: {} })))
    t.ok(await eventually(async () => await statusOf(app, token) === 200), 'no forged event revoked the session')
  }
  t.equal(warnings.filter((line) => JSON.parse(line).msg === REFUSED_WARNING).length, 7, 'each forged event logged')

  // The genuine end, then the old empty snapshot replayed: the replay is refused, the end stands.
  issuer.send(frame(set({ [REVOKED]: { event_timestamp: 1, expires_at: expiresAt } }, { subject: sid }), 'c.3'))
  t.ok(await eventually(async () => await statusOf(app, token) === 401), 'the genuine end revokes')
  t.ok(await refusedThenBack(issuer, frame(emptySnapshot, 'c.1')), 'the replayed snapshot is refused')
  t.equal(issuer.lastEventIds.at(-1), 'c.3', 'the follower resumes after the end it applied')
  issuer.send(frame(set({ [HEARTBEAT]: {} })))
  t.ok(await eventually(async () => await statusOf(app, token) !== 503), 'current again')
  t.ok(warnings.some((line) => line.includes('seen before')), 'the replay is logged')
  t.equal(await statusOf(app, token), 401, 'and ignored: the session stays revoked')
  for (const line of warnings) {
    t.notOk(line.includes('eyJ'), 'no token text in the logs')
  }
})

test('a genuine event the follower refuses (the issuer\'s clock far ahead) is never skipped: nothing after it is taken, and the follower resumes before it', async (t) => {
  const issuer = await testIssuer(t)
  const app = await consumer(t, issuer)
  const alice = app.jwtAuth.sign({ sub: 'u-alice' })
  const bob = app.jwtAuth.sign({ sub: 'u-bob' })
  const expiresAt = Math.floor(Date.now() / 1000) + 600
  t.ok(await eventually(() => issuer.connections() === 1), 'the follower connects')
  issuer.send(frame(set({ [SNAPSHOT]: { sessions: [], subjects: [], last: true } }), 'c.1'), frame(set({ [HEARTBEAT]: {} })))
  t.ok(await eventually(async () => await statusOf(app, alice) === 200), 'ready')

  // Alice's end signed an hour ahead (refused), then Bob's end and a heartbeat, in one write.
  t.ok(await refusedThenBack(issuer,
    frame(set({ [REVOKED]: { event_timestamp: 1, expires_at: expiresAt } }, { subject: sidOf(alice), iat: Math.floor(Date.now() / 1000) + 3600 }), 'c.2'),
    frame(set({ [REVOKED]: { event_timestamp: 1, expires_at: expiresAt } }, { subject: sidOf(bob) }), 'c.3'),
    frame(set({ [HEARTBEAT]: {} }))
  ), 'the refused event ends the connection')
  t.equal(issuer.lastEventIds.at(-1), 'c.1', 'the follower asks again from before the event it refused')
  t.equal(await statusOf(app, alice), 503, 'alice\'s token is not accepted while her end is missing')
  t.equal(await statusOf(app, bob), 503, 'nothing after the refused event was taken as current')

  // The issuer resends both ends, now signed right.
  issuer.send(
    frame(set({ [REVOKED]: { event_timestamp: 1, expires_at: expiresAt } }, { subject: sidOf(alice) }), 'c.2'),
    frame(set({ [REVOKED]: { event_timestamp: 1, expires_at: expiresAt } }, { subject: sidOf(bob) }), 'c.3'),
    frame(set({ [HEARTBEAT]: {} }))
  )
  t.ok(await eventually(async () => await statusOf(app, alice) === 401), 'alice\'s end taken')
  t.equal(await statusOf(app, bob), 401, 'and bob\'s')
})

test('a heartbeat older than maxStaleness, or an iat in the future, is no word from the feed', async (t) => {
  const issuer = await testIssuer(t)
  const app = await consumer(t, issuer, 2)
  const token = app.jwtAuth.sign({ sub: 'u-alice' })
  const now = Math.floor(Date.now() / 1000)
  t.ok(await eventually(() => issuer.connections() === 1), 'the follower connects')
  for (const iat of [now - 60, now + 3600, now - 3600]) {
    t.ok(await refusedThenBack(issuer, frame(set({ [SNAPSHOT]: { sessions: [], subjects: [], last: true } }), 'c.1'), frame(set({ [HEARTBEAT]: {} }, { iat }))), 'a heartbeat refused')
    t.equal(await statusOf(app, token), 503, 'no acceptable heartbeat: not ready')
  }
  issuer.send(frame(set({ [HEARTBEAT]: {} })))
  t.ok(await eventually(async () => await statusOf(app, token) === 200), 'a fresh one makes it ready')
  // Then the issuer goes silent: the follower stops vouching, and reconnects.
  const connections = issuer.connections()
  t.ok(await eventually(async () => await statusOf(app, token) === 503), '503 once silent for maxStaleness')
  t.ok(await eventually(() => issuer.connections() > connections), 'and the follower drops the silent connection and reconnects')
})

test('seen jtis are forgotten once their events are too old to be taken anyway: a replay is still refused', async (t) => {
  const clock = fakeClock(t)
  const issuer = await testIssuer(t)
  const app = await consumer(t, issuer)
  const token = app.jwtAuth.sign({ sub: 'u-alice' })
  t.ok(await eventually(() => issuer.connections() === 1), 'the follower connects')
  const emptySnapshot = set({ [SNAPSHOT]: { sessions: [], subjects: [], last: true } })
  issuer.send(frame(emptySnapshot, 'c.1'), frame(set({ [HEARTBEAT]: {} })))
  t.ok(await eventually(async () => await statusOf(app, token) === 200))
  issuer.send(frame(set({ [REVOKED]: { event_timestamp: 1, expires_at: Math.floor(Date.now() / 1000) + 3600 } }, { subject: sidOf(token) }), 'c.2'))
  t.ok(await eventually(async () => await statusOf(app, token) === 401))
  clock.tick(600_000)
  t.ok(await refusedThenBack(issuer, frame(set({ [HEARTBEAT]: {} })), frame(emptySnapshot, 'c.1')), 'the old snapshot is refused')
  t.equal(issuer.lastEventIds.at(-1), 'c.2', 'the follower resumes after the end')
  issuer.send(frame(set({ [HEARTBEAT]: {} })))
  t.ok(await eventually(async () => await statusOf(app, token) !== 503), 'current again with a fresh heartbeat')
  t.equal(await statusOf(app, token), 401, 'the old snapshot was refused as too old')
})

test('a refused feed (403) never makes the copy ready', async (t) => {
  const server = createServer((_request, response) => {
    response.writeHead(403, { 'content-type': 'application/json' })
    response.end('{"statusCode":403}')
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  t.teardown(() => server.close())
  const app = Fastify()
  t.teardown(() => app.close())
  await app.register(jwtAuth, { secret: SECRET, issuer: ISSUER, routes: false, followRevocations: { url: `http://127.0.0.1:${(server.address() as { port: number }).port}/`, maxStaleness: 1 } })
  app.get('/me', { onRequest: app.authenticate }, async (request) => request.user)
  await app.ready()
  await new Promise((resolve) => setTimeout(resolve, 300))
  t.equal(await statusOf(app, app.jwtAuth.sign({ sub: 'u-alice' })), 503)
  t.equal((await app.inject({ url: '/me', headers: bearer(app.jwtAuth.sign({ sub: 'u-alice' })) })).json().code, 'FST_JWT_SESSION_STORE_UNAVAILABLE')
})
