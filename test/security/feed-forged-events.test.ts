import { createServer, type ServerResponse } from 'node:http'
import { randomBytes } from 'node:crypto'
import { test } from 'tap'
import Fastify from 'fastify'
import jwtAuth from '../../lib/index'
import { bearer, fakeClock, forge, SECRET } from '../helpers'
import { eventually, ISSUER, statusOf } from '../feed-helpers'

/*
 * A follower applies only what the issuer signed for it: an event signed with another key, of
 * another typ or another issuer, or a genuine event sent a second time (which could roll the
 * copy back to an older snapshot), is ignored, logged, and no word from the feed.
 */

const SNAPSHOT = 'urn:fastify-jwt-session:event:snapshot'
const HEARTBEAT = 'urn:fastify-jwt-session:event:heartbeat'
const REVOKED = 'https://schemas.openid.net/secevent/caep/event-type/session-revoked'

/** A SET as the issuer signs one; each part may be overridden to forge it. */
function set (events: Record<string, unknown>, { key = SECRET, typ = 'secevent+jwt', iss = ISSUER, subject }: { key?: string, typ?: string, iss?: string, subject?: string } = {}): string {
  const now = Math.floor(Date.now() / 1000)
  return forge({ alg: 'HS256', typ }, {
    iss, iat: now, jti: randomBytes(16).toString('base64url'), ...(subject === undefined ? {} : { sub_id: { format: 'opaque', id: subject } }), events
  }, key)
}

/** A hand-written issuer: it streams what the test writes, to every reader. */
async function testIssuer (t: { teardown (fn: () => unknown): void }): Promise<{ url: string, readers (): number, connections (): number, send (data: string, id?: string): void }> {
  const readers: ServerResponse[] = []
  const server = createServer((_request, response) => {
    response.writeHead(200, { 'content-type': 'text/event-stream' })
    readers.push(response)
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  t.teardown(() => {
    for (const reader of readers) reader.destroy()
    server.close()
  })
  return {
    url: `http://127.0.0.1:${(server.address() as { port: number }).port}/@revocations`,
    connections: () => readers.length,
    readers: () => readers.filter((reader) => !reader.destroyed).length,
    send (data, id) {
      for (const reader of readers) reader.write(`${id === undefined ? '' : `id: ${id}\n`}data: ${data}\n\n`)
    }
  }
}

test('forged and replayed events are ignored and logged', async (t) => {
  const issuer = await testIssuer(t)
  const warnings: string[] = []
  const app = Fastify({ logger: { level: 'warn', stream: { write: (line: string) => { warnings.push(line) } } } })
  t.teardown(() => app.close())
  await app.register(jwtAuth, { secret: SECRET, issuer: ISSUER, routes: false, followRevocations: { url: issuer.url, maxStaleness: 5 } })
  app.get('/me', { onRequest: app.authenticate }, async (request) => request.user)
  await app.ready()
  const token = app.jwtAuth.sign({ sub: 'u-alice' })
  const sid = JSON.parse(Buffer.from(token.split('.')[1] as string, 'base64url').toString()).sid as string
  const expiresAt = Math.floor(Date.now() / 1000) + 600
  t.ok(await eventually(() => issuer.readers() === 1), 'the follower connects')

  // A first snapshot (empty) and heartbeats, forged ones first: none of them makes the copy ready.
  const emptySnapshot = set({ [SNAPSHOT]: { sessions: [], subjects: [], last: true } })
  issuer.send(set({ [SNAPSHOT]: { sessions: [], subjects: [], last: true } }, { key: 'another-secret-of-at-least-32-bytes!!' }), 'c.1')
  issuer.send(set({ [HEARTBEAT]: {} }, { typ: 'JWT' }))
  issuer.send(set({ [HEARTBEAT]: {} }, { iss: 'https://evil.test' }))
  t.ok(await eventually(() => warnings.length >= 3), 'three warnings')
  t.equal(await statusOf(app, token), 503, 'forged events made nothing ready')
  issuer.send(emptySnapshot, 'c.1')
  issuer.send(set({ [HEARTBEAT]: {} }))
  t.ok(await eventually(async () => await statusOf(app, token) === 200), 'ready with the genuine snapshot and heartbeat')

  // Forged ends of the session: refused.
  issuer.send(set({ [REVOKED]: { event_timestamp: 1, expires_at: expiresAt } }, { subject: sid, key: 'another-secret-of-at-least-32-bytes!!' }), 'c.2')
  issuer.send(set({ [REVOKED]: { event_timestamp: 1, expires_at: expiresAt } }, { subject: sid, typ: 'JWT' }), 'c.2')
  issuer.send(set({ [REVOKED]: { event_timestamp: 1, expires_at: expiresAt } }, { subject: sid, iss: 'https://evil.test' }), 'c.2')
  issuer.send(set({ [REVOKED]: { event_timestamp: 'now', expires_at: expiresAt } }, { subject: sid }), 'c.2')
  t.ok(await eventually(() => warnings.length >= 7), 'each forged event logged')
  t.equal(await statusOf(app, token), 200, 'no forged event revoked the session')

  // The genuine end, then the old empty snapshot replayed: the replay is refused, the end stands.
  issuer.send(set({ [REVOKED]: { event_timestamp: 1, expires_at: expiresAt } }, { subject: sid }), 'c.3')
  t.ok(await eventually(async () => await statusOf(app, token) === 401), 'the genuine end revokes')
  issuer.send(emptySnapshot, 'c.1')
  issuer.send(set({ [HEARTBEAT]: {} }))
  t.ok(await eventually(() => warnings.some((line) => line.includes('seen before'))), 'the replay is logged')
  t.equal(await statusOf(app, token), 401, 'and ignored: the session stays revoked')
  for (const line of warnings) {
    t.notOk(line.includes('eyJ'), 'no token text in the logs')
  }
})

test('a heartbeat older than maxStaleness, or an iat in the future, is no word from the feed', async (t) => {
  const issuer = await testIssuer(t)
  const app = Fastify()
  t.teardown(() => app.close())
  await app.register(jwtAuth, { secret: SECRET, issuer: ISSUER, routes: false, followRevocations: { url: issuer.url, maxStaleness: 2 } })
  app.get('/me', { onRequest: app.authenticate }, async (request) => request.user)
  await app.ready()
  const token = app.jwtAuth.sign({ sub: 'u-alice' })
  const now = Math.floor(Date.now() / 1000)
  const at = (iat: number, events: Record<string, unknown>): string =>
    forge({ alg: 'HS256', typ: 'secevent+jwt' }, { iss: ISSUER, iat, jti: randomBytes(16).toString('base64url'), events })
  t.ok(await eventually(() => issuer.readers() === 1), 'the follower connects')
  issuer.send(set({ [SNAPSHOT]: { sessions: [], subjects: [], last: true } }), 'c.1')
  issuer.send(at(now - 60, { [HEARTBEAT]: {} }))
  issuer.send(at(now + 3600, { [HEARTBEAT]: {} }))
  issuer.send(at(now - 3600, { [HEARTBEAT]: {} }))
  await new Promise((resolve) => setTimeout(resolve, 300))
  t.equal(await statusOf(app, token), 503, 'no acceptable heartbeat: not ready')
  issuer.send(set({ [HEARTBEAT]: {} }))
  t.ok(await eventually(async () => await statusOf(app, token) === 200), 'a fresh one makes it ready')
  // Then the issuer goes silent: the follower stops vouching, and reconnects.
  t.ok(await eventually(async () => await statusOf(app, token) === 503), '503 once silent for maxStaleness')
  t.ok(await eventually(() => issuer.connections() >= 2), 'and the follower drops the silent connection and reconnects')
})

test('seen jtis are forgotten once their events are too old to be taken anyway: a replay is still refused', async (t) => {
  const clock = fakeClock(t)
  const issuer = await testIssuer(t)
  const app = Fastify()
  t.teardown(() => app.close())
  await app.register(jwtAuth, { secret: SECRET, issuer: ISSUER, routes: false, followRevocations: { url: issuer.url, maxStaleness: 5 } })
  app.get('/me', { onRequest: app.authenticate }, async (request) => request.user)
  await app.ready()
  const token = app.jwtAuth.sign({ sub: 'u-alice' })
  const sid = JSON.parse(Buffer.from(token.split('.')[1] as string, 'base64url').toString()).sid as string
  t.ok(await eventually(() => issuer.readers() === 1), 'the follower connects')
  const emptySnapshot = set({ [SNAPSHOT]: { sessions: [], subjects: [], last: true } })
  issuer.send(emptySnapshot, 'c.1')
  issuer.send(set({ [HEARTBEAT]: {} }))
  t.ok(await eventually(async () => await statusOf(app, token) === 200))
  issuer.send(set({ [REVOKED]: { event_timestamp: 1, expires_at: Math.floor(Date.now() / 1000) + 3600 } }, { subject: sid }), 'c.2')
  t.ok(await eventually(async () => await statusOf(app, token) === 401))
  clock.tick(600_000)
  issuer.send(set({ [HEARTBEAT]: {} }))
  issuer.send(emptySnapshot, 'c.1')
  issuer.send(set({ [HEARTBEAT]: {} }))
  t.ok(await eventually(async () => await statusOf(app, token) !== 503), 'current again with fresh heartbeats')
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
