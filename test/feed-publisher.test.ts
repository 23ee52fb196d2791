import { request as httpRequest, type IncomingMessage } from 'node:http'
import { test } from 'tap'
import Fastify from 'fastify'
import jwtAuth, { OptionError } from '../lib/index'
import { bearer, SECRET, verifyCredentials } from './helpers'
import { consumerApp, eventually, FEED_HEADERS, ISSUER, issuerApp, loginAt, memoryStore, statusOf } from './feed-helpers'

/** Opens the feed and collects its text until `stop` says so; answers the response and the text. */
async function readFeed (url: string, headers: Record<string, string>, stop: (text: string) => boolean, onText: (text: string) => void = () => {}): Promise<{ response: IncomingMessage, text: string }> {
  return await new Promise((resolve, reject) => {
    const request = httpRequest(`${url}/@revocations`, { headers }, (response) => {
      let text = ''
      response.setEncoding('utf8')
      response.on('data', (chunk: string) => {
        text += chunk
        onText(text)
        if (stop(text)) {
          request.destroy()
          resolve({ response, text })
        }
      })
      response.on('end', () => resolve({ response, text }))
    })
    request.on('error', reject)
    request.end()
  })
}

/** Whether the feed's text holds a complete event whose type ends with `suffix`. */
const has = (suffix: string) => (text: string): boolean => types(text).some((type) => type.endsWith(suffix))

/** The SSE ids in a feed's text. */
const ids = (text: string): string[] => [...text.matchAll(/^id: (.*)$/gm)].map((match) => match[1] as string)
/** The event types of a feed's text, in order (complete events only). */
const types = (text: string): string[] => [...text.slice(0, Math.max(0, text.lastIndexOf('\n\n'))).matchAll(/^data: (.*)$/gm)].map((match) => {
  const payload = JSON.parse(Buffer.from((match[1] as string).split('.')[1] as string, 'base64url').toString())
  return Object.keys(payload.events)[0] as string
})

test('the feed answers an event stream: a snapshot, the caught-up heartbeat, then live events', async (t) => {
  const store = memoryStore()
  const issuer = await issuerApp(t, store)
  const token = await loginAt(issuer.app)
  let loggedOut = false
  // Logged out once the reader is caught up, so that the end comes live rather than in the snapshot.
  const { response, text } = await readFeed(issuer.url, FEED_HEADERS, has('session-revoked'), (text) => {
    if (loggedOut || !has('heartbeat')(text)) return
    loggedOut = true
    void issuer.app.inject({ method: 'POST', url: '/@logout', headers: bearer(token) })
  })
  t.equal(response.statusCode, 200)
  t.equal(response.headers['content-type'], 'text/event-stream')
  t.equal(response.headers['cache-control'], 'no-store')
  t.equal(response.headers['x-accel-buffering'], 'no')
  t.same(types(text).slice(0, 2), ['urn:fastify-jwt-session:event:snapshot', 'urn:fastify-jwt-session:event:heartbeat'])
  t.equal(types(text).at(-1), 'https://schemas.openid.net/secevent/caep/event-type/session-revoked')
  t.equal(ids(text).length, 2, 'the snapshot and the change carry cursors; heartbeats do not')
})

test('Last-Event-ID resumes without a snapshot when the history holds it, with one when it does not', async (t) => {
  const store = memoryStore({ historySize: 3 })
  const issuer = await issuerApp(t, store)
  const cursor = store.history.snapshot().cursor
  store.end('s-1', Math.floor(Date.now() / 1000) + 60)
  const resumed = await readFeed(issuer.url, { ...FEED_HEADERS, 'last-event-id': cursor }, has('heartbeat'))
  t.same(types(resumed.text), ['https://schemas.openid.net/secevent/caep/event-type/session-revoked', 'urn:fastify-jwt-session:event:heartbeat'], 'only what was missed')
  for (let index = 2; index < 8; index++) store.end(`s-${index}`, Math.floor(Date.now() / 1000) + 60)
  const snapshotted = await readFeed(issuer.url, { ...FEED_HEADERS, 'last-event-id': cursor }, has('heartbeat'))
  t.same(types(snapshotted.text), ['urn:fastify-jwt-session:event:snapshot', 'urn:fastify-jwt-session:event:heartbeat'], 'a snapshot: the history no longer holds the cursor')
  const unknown = await readFeed(issuer.url, { ...FEED_HEADERS, 'last-event-id': 'another-store.1' }, has('heartbeat'))
  t.equal(types(unknown.text)[0], 'urn:fastify-jwt-session:event:snapshot', 'a cursor of another store: a snapshot')
})

test('a reader the history left behind is dropped, and its follower catches up with a snapshot', async (t) => {
  const store = memoryStore({ historySize: 3 })
  const issuer = await issuerApp(t, store)
  const consumer = await consumerApp(t, issuer.url, 'secret')
  const token = await loginAt(issuer.app)
  t.ok(await eventually(async () => await statusOf(consumer, token) === 200))
  const sids: string[] = []
  for (let index = 0; index < 10; index++) {
    sids.push(`s-${index}`)
    store.end(`s-${index}`, Math.floor(Date.now() / 1000) + 60)
  }
  await issuer.app.jwtAuth.revoke(await issuer.app.jwtAuth.verify(token))
  t.ok(await eventually(async () => await statusOf(consumer, token) === 401), 'refused after the new snapshot')
})

test('a reader that does not read is dropped before its buffer grows without bound', async (t) => {
  const store = memoryStore({ historySize: 200_000 })
  const issuer = await issuerApp(t, store)
  let closed = false
  // Seen from the issuer's side: the client reads nothing, so it would not notice.
  issuer.app.server.on('connection', (socket) => socket.on('close', () => { closed = true }))
  await new Promise<void>((resolve) => {
    const request = httpRequest(`${issuer.url}/@revocations`, { headers: FEED_HEADERS }, (response) => {
      response.pause()
      resolve()
    })
    request.on('error', () => {})
    request.end()
  })
  const expiresAt = Math.floor(Date.now() / 1000) + 600
  for (let round = 0; round < 60; round++) {
    if (closed) break
    for (let index = 0; index < 2000; index++) store.end(`session-${round}-${index}-${'x'.repeat(200)}`, expiresAt)
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
  t.ok(await eventually(() => closed), 'the connection was dropped')
})

test('a large snapshot waits for a slow reader rather than pile up, then goes on', async (t) => {
  const store = memoryStore()
  const expiresAt = Math.floor(Date.now() / 1000) + 600
  for (let index = 0; index < 60_000; index++) store.end(`session-${index}-${'x'.repeat(100)}`, expiresAt)
  const issuer = await issuerApp(t, store)
  const text = await new Promise<string>((resolve, reject) => {
    const request = httpRequest(`${issuer.url}/@revocations`, { headers: FEED_HEADERS }, (response) => {
      let received = ''
      response.setEncoding('utf8')
      response.pause()
      // Paused long enough for the issuer's buffer to pass its mark.
      setTimeout(() => response.resume(), 500)
      response.on('data', (chunk: string) => {
        received += chunk
        if (has('heartbeat')(received)) {
          request.destroy()
          resolve(received)
        }
      })
    })
    request.on('error', reject)
    request.end()
  })
  const snapshots = types(text).filter((type) => type.endsWith('snapshot'))
  t.equal(snapshots.length, 60, '60 chunks of 1,000 entries')
  t.equal(ids(text).length, 1, 'the last chunk carries the cursor')
})

test('a store whose history fails drops the reader and logs it', async (t) => {
  const store = memoryStore()
  const failing = Object.assign(Object.create(null), {
    session: store.session,
    subject: store.subject,
    renew: store.renew,
    end: store.end,
    endSubject: store.endSubject,
    history: { snapshot: async () => { throw new Error('the database is down') }, changesSince: store.history.changesSince, watch: store.history.watch }
  })
  const lines: string[] = []
  const app = Fastify({ logger: { level: 'error', stream: { write: (line: string) => { lines.push(line) } } } })
  t.teardown(() => app.close())
  await app.register(jwtAuth, { secret: SECRET, issuer: ISSUER, verifyCredentials, revocationStore: failing, revocationFeed: { authorize: () => true } })
  await app.listen({ port: 0, host: '127.0.0.1' })
  const { text } = await readFeed(`http://127.0.0.1:${(app.server.address() as { port: number }).port}`, {}, () => false).catch(() => ({ text: '' }))
  t.equal(text, '', 'nothing was sent')
  t.ok(lines.some((line) => line.includes('could not read the store')), 'logged')
})

test('authorize decides: false is 403, an HTTP error is itself, anything else a bare 500; closing the app ends the streams', async (t) => {
  const store = memoryStore()
  const app = Fastify()
  t.teardown(() => app.close())
  await app.register(jwtAuth, {
    secret: SECRET,
    issuer: ISSUER,
    verifyCredentials,
    revocationStore: store,
    routes: { revocations: '/feed' },
    revocationFeed: {
      async authorize (request) {
        if (request.headers['x-mode'] === 'boom') throw new Error('the host database is down: secret detail')
        const claims = await request.authenticate()
        return claims.roles.includes('admin')
      }
    }
  })
  const anonymous = await app.inject({ url: '/feed' })
  t.equal(anonymous.statusCode, 401)
  t.equal(anonymous.json().code, 'FST_JWT_SESSION_NO_TOKEN')
  const bob = await app.inject({ url: '/feed', headers: bearer(app.jwtAuth.sign({ sub: 'bob', roles: ['user'] })) })
  t.equal(bob.statusCode, 403)
  t.equal(bob.json().code, 'FST_JWT_SESSION_FORBIDDEN')
  const boom = await app.inject({ url: '/feed', headers: { 'x-mode': 'boom' } })
  t.equal(boom.statusCode, 500)
  t.notMatch(boom.body, /secret detail/)
  await app.listen({ port: 0, host: '127.0.0.1' })
  const port = (app.server.address() as { port: number }).port
  const admin = app.jwtAuth.sign({ sub: 'alice', roles: ['admin'] })
  const ended = new Promise<string>((resolve) => {
    httpRequest(`http://127.0.0.1:${port}/feed`, { headers: bearer(admin) }, (response) => {
      let text = ''
      response.setEncoding('utf8')
      response.on('data', (chunk: string) => {
        text += chunk
        if (has('heartbeat')(text)) void app.close()
      })
      response.on('end', () => resolve(text))
    }).end()
  })
  t.ok(has('heartbeat')(await ended), 'the stream ended cleanly when the app closed')
})

test('options are refused at registration, each naming what is wrong', async (t) => {
  const store = memoryStore()
  const authorize = (): boolean => true
  const follow = { url: 'https://auth.test/@revocations' }
  const cases: Array<[string, Record<string, unknown>, RegExp]> = [
    ['no authorize', { secret: SECRET, issuer: ISSUER, verifyCredentials, revocationStore: store, revocationFeed: {} }, /revocationFeed.authorize is required/],
    ['not an object', { secret: SECRET, issuer: ISSUER, verifyCredentials, revocationStore: store, revocationFeed: true }, /revocationFeed must be an object/],
    ['no store', { secret: SECRET, issuer: ISSUER, verifyCredentials, revocationFeed: { authorize } }, /revocationFeed needs a revocationStore/],
    ['no issuer', { secret: SECRET, verifyCredentials, revocationStore: store, revocationFeed: { authorize } }, /revocationFeed needs issuer/],
    ['a store without history', { secret: SECRET, issuer: ISSUER, verifyCredentials, revocationStore: { session () {}, subject () {}, renew () {}, end () {}, endSubject () {} }, revocationFeed: { authorize } }, /lacks history.snapshot\(\), history.changesSince\(\), history.watch\(\)/],
    ['verify-only', { jwks: { url: 'https://auth.test/jwks.json' }, audience: false, issuer: ISSUER, revocationStore: store, revocationFeed: { authorize } }, /revocationFeed needs a key that signs/],
    ['no route', { secret: SECRET, issuer: ISSUER, verifyCredentials, revocationStore: store, routes: { revocations: false }, revocationFeed: { authorize } }, /revocationFeed needs routes.revocations/],
    ['follow: not an object', { secret: SECRET, issuer: ISSUER, routes: false, followRevocations: 'x' }, /followRevocations must be an object/],
    ['follow: no issuer', { secret: SECRET, routes: false, followRevocations: follow }, /followRevocations needs issuer/],
    ['follow: with a store', { secret: SECRET, issuer: ISSUER, routes: false, revocationStore: store, followRevocations: follow }, /followRevocations cannot be used with revocationStore/],
    ['follow: secret with routes', { secret: SECRET, issuer: ISSUER, verifyCredentials, followRevocations: follow }, /followRevocations is for a service that only verifies/],
    ['follow: http to another host', { secret: SECRET, issuer: ISSUER, routes: false, followRevocations: { url: 'http://auth.test/@revocations' } }, /followRevocations.url must be an https: URL/],
    ['follow: bad headers', { secret: SECRET, issuer: ISSUER, routes: false, followRevocations: { ...follow, headers: { a: 1 } } }, /followRevocations.headers must be an object/],
    ['follow: bad maxStaleness', { secret: SECRET, issuer: ISSUER, routes: false, followRevocations: { ...follow, maxStaleness: 'soon' } }, /followRevocations.maxStaleness must be/]
  ]
  for (const [name, options, message] of cases) {
    const app = Fastify()
    t.teardown(() => app.close())
    const error = await (async () => { await app.register(jwtAuth, options as never) })().catch((caught: unknown) => caught)
    t.type(error, OptionError, name)
    t.match((error as Error).message, message, name)
  }
  const app = Fastify()
  t.teardown(() => app.close())
  await app.register(jwtAuth, { secret: SECRET, issuer: ISSUER, routes: false, followRevocations: { ...follow, headers: { authorization: 'Bearer x' } } })
  t.ok(await app.ready(), 'headers of strings are taken')
})
