import { test } from 'tap'
import { Writable } from 'node:stream'
import Fastify from 'fastify'
import jwtAuth, { memoryStore, type RevocationStore } from '../lib/index'
import { SECRET, bearer, buildApp, issue, login, verifyCredentials } from './helpers'

/**
 * A token signed with the test secret by an app without a store: a login through an app whose
 * store fails is refused (503), since it reads the user's logout-all cut-off.
 */
async function signedElsewhere (t: Parameters<typeof buildApp>[0]): Promise<string> {
  return await issue(await buildApp(t, { revocationStore: undefined }))
}

/** A store whose every call fails in the given way: fake on purpose, to reach each failure branch. */
function failingStore (fail: () => unknown): RevocationStore {
  const call = fail as never
  return { session: call, subject: call, renew: call, end: call, endSubject: call }
}

/** A working store that answers asynchronously, after `delay` milliseconds. */
function asyncStore (delay = 0): RevocationStore {
  const inner = memoryStore()
  const later = async <T>(value: T): Promise<T> => await new Promise((resolve) => setTimeout(() => resolve(value), delay))
  return {
    session: async (sid) => await later(inner.session(sid)),
    subject: async (sub) => await later(inner.subject(sub)),
    renew: async (...args) => await later(inner.renew(...args)),
    end: async (...args) => { await later(inner.end(...args)) },
    endSubject: async (...args) => { await later(inner.endSubject(...args)) }
  }
}

/** The memory store with some of its methods replaced. */
function memoryStoreWith (overrides: Partial<RevocationStore>): RevocationStore {
  const inner = memoryStore()
  return {
    session: (sid) => inner.session(sid),
    subject: (sub) => inner.subject(sub),
    renew: (...args) => inner.renew(...args),
    end: (...args) => { inner.end(...args) },
    endSubject: (...args) => { inner.endSubject(...args) },
    ...overrides
  }
}

const failures: Array<[string, () => unknown]> = [
  ['throws', () => { throw new Error('ECONNREFUSED 10.1.2.3:6379') }],
  ['rejects', async () => { throw new Error('ECONNREFUSED 10.1.2.3:6379') }],
  ['never answers', async () => await new Promise(() => {})],
  ['answers a string', () => 'yes'],
  ['answers NaN', () => NaN],
  ['answers an object asynchronously', async () => ({})]
]

for (const [name, fail] of failures) {
  test(`a store that ${name} fails every request closed with 503 and Retry-After`, async (t) => {
    const logs: string[] = []
    const app = Fastify({ logger: { level: 'info', stream: new Writable({ write (chunk, _e, cb) { logs.push(String(chunk)); cb() } }) } })
    t.teardown(() => app.close())
    await app.register(jwtAuth, { secret: SECRET, verifyCredentials, revocationStore: failingStore(fail), storeTimeout: 50 })
    app.get('/me', { onRequest: app.authenticate }, async (request) => request.user)
    const refused = await app.inject({ method: 'POST', url: '/@login', payload: { login: 'alice', password: 'wonderland' } })
    t.equal(refused.statusCode, 503, 'a login fails closed: it cannot learn the user\'s logout-all cut-off')
    t.equal(refused.json().code, 'FST_JWT_SESSION_STORE_UNAVAILABLE')
    const token = await signedElsewhere(t)
    for (const request of [
      { url: '/me' },
      { method: 'POST' as const, url: '/@login-renew' },
      { method: 'POST' as const, url: '/@logout' },
      { method: 'POST' as const, url: '/@logout', payload: { all: true } }
    ]) {
      const response = await app.inject({ ...request, headers: bearer(token) })
      t.equal(response.statusCode, 503, `${request.url} ${JSON.stringify(request.payload ?? '')}`)
      t.same(response.json(), { statusCode: 503, code: 'FST_JWT_SESSION_STORE_UNAVAILABLE', error: 'Service Unavailable', message: 'The revocation store is unavailable; try again later' })
      t.equal(response.headers['retry-after'], '5')
      t.notMatch(response.body, /ECONNREFUSED|10\.1\.2\.3/)
    }
    await t.rejects(app.jwtAuth.verify(token), { code: 'FST_JWT_SESSION_STORE_UNAVAILABLE' })
    t.match(logs.join(''), /FST_JWT_SESSION_STORE_UNAVAILABLE/, 'the failure is logged')
    t.notMatch(logs.join(''), new RegExp(token.split('.')[2] as string), 'the token is not')
  })
}

const garbageRecords: Array<[string, unknown]> = [
  ['a string', 'ok'],
  ['a record without ended', { generation: 1, renewedAt: 1 }],
  ['a generation as a string', { generation: '1', renewedAt: 1, ended: false }],
  ['a negative generation', { generation: -1, renewedAt: 1, ended: false }],
  ['a renewedAt of NaN', { generation: 1, renewedAt: NaN, ended: false }]
]

for (const [name, record] of garbageRecords) {
  test(`a store whose session() answers ${name} fails requests closed with 503; so does a renew() that does`, async (t) => {
    const app = await buildApp(t, { revocationStore: memoryStoreWith({ session: () => record as never, renew: () => record as never }) })
    const token = await login(app)
    t.equal((await app.inject({ url: '/me', headers: bearer(token) })).statusCode, 503)
    t.equal((await app.inject({ method: 'POST', url: '/@login-renew', headers: bearer(token) })).statusCode, 503)
  })
}

test('a store whose renew() answers nothing, or does not advance the session, fails the renewal with 503', async (t) => {
  for (const renew of [() => undefined, () => null, (_sid: string, generation: number) => ({ generation, renewedAt: 0, ended: false })]) {
    const app = await buildApp(t, { revocationStore: memoryStoreWith({ renew: renew as never }) })
    const token = await login(app)
    const response = await app.inject({ method: 'POST', url: '/@login-renew', headers: bearer(token) })
    t.equal(response.statusCode, 503)
    t.equal((await app.inject({ url: '/me', headers: bearer(token) })).statusCode, 200, 'the token stays valid')
  }
})

test('a store whose subject() answers no number fails requests closed with 503', async (t) => {
  for (const cutoff of ['1', NaN, {}]) {
    const app = await buildApp(t, { revocationStore: memoryStoreWith({ subject: () => cutoff as never }) })
    t.equal((await app.inject({ method: 'POST', url: '/@login', payload: { login: 'alice', password: 'wonderland' } })).statusCode, 503, `login: ${String(cutoff)}`)
    t.equal((await app.inject({ url: '/me', headers: bearer(await signedElsewhere(t)) })).statusCode, 503, String(cutoff))
  }
})

test('a store whose subject() throws while session() is pending fails with 503, leaving no rejection unhandled', async (t) => {
  const app = await buildApp(t, {
    revocationStore: memoryStoreWith({
      session: async () => { throw new Error('down') },
      subject: () => { throw new Error('down') }
    })
  })
  const token = await signedElsewhere(t)
  t.equal((await app.inject({ url: '/me', headers: bearer(token) })).statusCode, 503)
  await new Promise((resolve) => setTimeout(resolve, 10))
})

test('a store that answers null for "nothing recorded" is understood', async (t) => {
  const inner = memoryStore()
  const app = await buildApp(t, { revocationStore: memoryStoreWith({ session: (sid) => inner.session(sid) ?? null, subject: (sub) => inner.subject(sub) ?? null, end: (...args) => { inner.end(...args) } }) })
  const token = await login(app)
  t.equal((await app.inject({ url: '/me', headers: bearer(token) })).statusCode, 200)
  await app.inject({ method: 'POST', url: '/@logout', headers: bearer(token) })
  t.equal((await app.inject({ url: '/me', headers: bearer(token) })).statusCode, 401)
})

test('an asynchronous store within the timeout works like the memory store', async (t) => {
  const app = await buildApp(t, { revocationStore: asyncStore(5), storeTimeout: 1000 })
  const token = await login(app)
  t.equal((await app.inject({ url: '/me', headers: bearer(token) })).statusCode, 200)
  t.equal((await app.inject({ url: '/admin', headers: bearer(token) })).statusCode, 200)
  const renewed = await app.inject({ method: 'POST', url: '/@login-renew', headers: bearer(token) })
  t.equal(renewed.statusCode, 200)
  const fresh = renewed.json().token
  t.equal((await app.inject({ url: '/me', headers: bearer(fresh) })).statusCode, 200)
  t.equal((await app.inject({ method: 'POST', url: '/@logout', headers: bearer(await login(app)), payload: { all: true } })).statusCode, 204)
  t.equal((await app.inject({ url: '/me', headers: bearer(token) })).json().code, 'FST_JWT_SESSION_REVOKED_TOKEN')
  t.equal((await app.inject({ url: '/me', headers: bearer(fresh) })).json().code, 'FST_JWT_SESSION_REVOKED_TOKEN')
  const after = await login(app)
  t.equal((await app.inject({ method: 'POST', url: '/@logout', headers: bearer(after) })).statusCode, 204)
  t.equal((await app.inject({ url: '/admin', headers: bearer(after) })).statusCode, 401)
})

test('an asynchronous store slower than storeTimeout answers 503, and recovers when it is fast again', async (t) => {
  let delay = 200
  const inner = memoryStore()
  const slow = memoryStoreWith({ session: async (sid) => await new Promise((resolve) => setTimeout(() => resolve(inner.session(sid)), delay)) })
  const app = await buildApp(t, { revocationStore: slow, storeTimeout: 50 })
  const token = await login(app)
  t.equal((await app.inject({ url: '/me', headers: bearer(token) })).statusCode, 503, 'the store would have answered (200) had the timeout not come first')
  delay = 0
  t.equal((await app.inject({ url: '/me', headers: bearer(token) })).statusCode, 200)
})
