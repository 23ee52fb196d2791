import { test } from 'tap'
import { Writable } from 'node:stream'
import Fastify from 'fastify'
import jwtAuth, { memoryStore, type RevocationStore } from '../lib/index'
import { SECRET, bearer, buildApp, login, verifyCredentials } from './helpers'

/** A store whose every call fails in the given way: fake on purpose, to reach each failure branch. */
function failingStore (fail: () => unknown): RevocationStore {
  return { revoke: fail as RevocationStore['revoke'], cutoff: fail as RevocationStore['cutoff'] }
}

/** A working store that answers asynchronously, after `delay` milliseconds. */
function asyncStore (delay = 0): RevocationStore {
  const inner = memoryStore()
  const later = async <T>(value: T): Promise<T> => await new Promise((resolve) => setTimeout(() => resolve(value), delay))
  return {
    revoke: async (key, cutoff, expiresAt) => await later(inner.revoke(key, cutoff, expiresAt)),
    cutoff: async (keys) => await later(inner.cutoff(keys))
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
    const token = await app.inject({ method: 'POST', url: '/@login', payload: { login: 'alice', password: 'wonderland' } }).then((r) => r.json().token)
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

test('a store whose revoke answers no boolean fails the logout with 503', async (t) => {
  const inner = memoryStore()
  const app = await buildApp(t, { revocationStore: { revoke: () => 'ok' as unknown as boolean, cutoff: (keys) => inner.cutoff(keys) } })
  const token = await login(app)
  t.equal((await app.inject({ url: '/me', headers: bearer(token) })).statusCode, 200, 'the check itself works')
  t.equal((await app.inject({ method: 'POST', url: '/@logout', headers: bearer(token) })).statusCode, 503)
  t.equal((await app.inject({ method: 'POST', url: '/@login-renew', headers: bearer(token) })).statusCode, 503)
  t.equal((await app.inject({ url: '/me', headers: bearer(token) })).statusCode, 200, 'a failed logout leaves the token valid (RFC 7009 §2.2.1)')
})

test('a store that answers null for "not revoked" is understood', async (t) => {
  const inner = memoryStore()
  const app = await buildApp(t, { revocationStore: { revoke: (...args) => inner.revoke(...args), cutoff: (keys) => inner.cutoff(keys) ?? (null as unknown as undefined) } })
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
  t.equal((await app.inject({ url: '/me', headers: bearer(token) })).json().code, 'FST_JWT_SESSION_REVOKED_TOKEN')
  const fresh = renewed.json().token
  t.equal((await app.inject({ method: 'POST', url: '/@logout', headers: bearer(fresh) })).statusCode, 204)
  t.equal((await app.inject({ url: '/admin', headers: bearer(fresh) })).statusCode, 401)
})

test('an asynchronous store slower than storeTimeout answers 503, and recovers when it is fast again', async (t) => {
  let delay = 200
  const inner = memoryStore()
  const slow: RevocationStore = {
    revoke: (...args) => inner.revoke(...args),
    cutoff: async (keys) => await new Promise((resolve) => setTimeout(() => resolve(inner.cutoff(keys)), delay))
  }
  const app = await buildApp(t, { revocationStore: slow, storeTimeout: 50 })
  const token = await login(app)
  t.equal((await app.inject({ url: '/me', headers: bearer(token) })).statusCode, 503, 'the store would have answered (200) had the timeout not come first')
  delay = 0
  t.equal((await app.inject({ url: '/me', headers: bearer(token) })).statusCode, 200)
})
