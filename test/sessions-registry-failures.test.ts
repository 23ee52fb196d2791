import diagnostics from 'node:diagnostics_channel'
import { test } from 'tap'
import { memoryStore, type MemoryStore, type SessionRegistry } from '../lib/index'
import { bearer, buildApp, decodePayload, login } from './helpers'

/** A memory store whose registry's methods may be replaced, to reach the failure branches. */
function storeWith (registry: (inner: SessionRegistry) => Partial<SessionRegistry>): MemoryStore {
  const store = memoryStore()
  const inner = store.registry
  const bound = { add: inner.add.bind(inner), touch: inner.touch.bind(inner), list: inner.list.bind(inner), ended: inner.ended.bind(inner), forget: inner.forget.bind(inner) }
  return { ...store, session: store.session, subject: store.subject, renew: store.renew, end: store.end, endSubject: store.endSubject, registry: { ...bound, ...registry(bound) } } as unknown as MemoryStore
}

test('a registry that fails at a login: 503, and no token', async (t) => {
  const app = await buildApp(t, { revocationStore: storeWith(() => ({ add: async () => { throw new Error('down') } })) })
  const response = await app.inject({ method: 'POST', url: '/@login', payload: { login: 'alice', password: 'wonderland' } })
  t.equal(response.statusCode, 503)
  t.equal(response.json().code, 'FST_JWT_SESSION_STORE_UNAVAILABLE')
  t.notOk('token' in response.json())
})

test('a registry that fails after the end: 503, and the end holds', async (t) => {
  for (const ended of [() => { throw new Error('down') }, () => ({ cutoff: 'soon', sids: [] }) as never]) {
    const app = await buildApp(t, { revocationStore: storeWith(() => ({ ended })) })
    const token = await login(app)
    const response = await app.inject({ method: 'POST', url: '/@logout', headers: bearer(token) })
    t.equal(response.statusCode, 503)
    t.equal((await app.inject({ url: '/me', headers: bearer(token) })).json().code, 'FST_JWT_SESSION_REVOKED_TOKEN', 'the logout holds')
  }
})

test('a registry whose list is not a list: 503', async (t) => {
  const app = await buildApp(t, { revocationStore: storeWith(() => ({ list: () => 'nonsense' as never })) })
  t.equal((await app.inject({ url: '/@sessions', headers: bearer(await login(app)) })).statusCode, 503)
})

test('a fold already covered by the user\'s cut-off records no new one, and still forgets', async (t) => {
  const forgotten: string[][] = []
  const store = storeWith(() => ({ ended: () => ({ cutoff: 1, sids: ['gone'] }), forget: (_sub, sids) => { forgotten.push([...sids]) } }))
  const app = await buildApp(t, { revocationStore: store })
  await app.jwtAuth.revokeSubject('u-alice')
  const held = store.subject('u-alice')
  const token = await login(app)
  t.equal((await app.inject({ method: 'POST', url: '/@logout', headers: bearer(token) })).statusCode, 204)
  t.equal(store.subject('u-alice'), held, 'the cut-off held is kept as it was')
  t.same(forgotten, [['gone']])
})

test('jwtAuth.revoke of claims without sub or auth_us: the end holds', async (t) => {
  const store = memoryStore()
  const app = await buildApp(t, { revocationStore: store })
  const claims = decodePayload(await login(app))
  await app.jwtAuth.revoke({ ...claims, sub: undefined } as never)
  t.equal(store.session(claims.sid)?.ended, true)
  t.equal(store.registry.list('u-alice').length, 1, 'no list had it under no sub')
  const other = decodePayload(await login(app))
  await app.jwtAuth.revoke({ ...other, auth_us: undefined } as never)
  t.equal(store.session(other.sid)?.ended, true)
  t.equal(store.registry.list('u-alice').length, 1)
})

test('a registry missing a method is no registry: the sessions routes are off', async (t) => {
  const store = memoryStore()
  const { session, subject, renew, end, endSubject } = store
  const app = await buildApp(t, { revocationStore: { session, subject, renew, end, endSubject, registry: { list: () => [] } as never } })
  t.equal((await app.inject({ url: '/@sessions', headers: bearer(await login(app)) })).statusCode, 404)
})

test('the logout channel counts an eviction and a logout of the other sessions', async (t) => {
  const kinds: string[] = []
  const listener = (message: unknown): void => { kinds.push((message as { kind: string }).kind) }
  diagnostics.subscribe('fastify-jwt-session:logout', listener)
  t.teardown(() => diagnostics.unsubscribe('fastify-jwt-session:logout', listener))
  const app = await buildApp(t, { maxSessionsPerUser: 1 })
  await login(app)
  const token = await login(app)
  await app.inject({ method: 'POST', url: '/@logout', headers: bearer(token), payload: { others: true } })
  t.same(kinds, ['one', 'others'])
})
