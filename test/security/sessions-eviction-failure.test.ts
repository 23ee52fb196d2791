import { test } from 'tap'
import { memoryStore, type MemoryStore } from '../../lib/index'
import { bearer, buildApp, decodePayload, login } from '../helpers'

// A login past `maxSessionsPerUser` takes the least recently used session off the list, then
// ends it. When the end fails (a store timeout), the login answers 503, and the session it
// meant to evict has not ended: it must stay listed, so that the user can still see it and end
// it, and so that `{ others: true }` answered 204 ends it with the rest.

/** A memory store whose `end` fails while `failing` is set: a fake only to reach the failure. */
function flakyStore (): { store: MemoryStore, fail: (on: boolean) => void } {
  const inner = memoryStore()
  let failing = false
  const store = {
    ...inner,
    session: inner.session,
    subject: inner.subject,
    renew: inner.renew,
    endSubject: inner.endSubject,
    registry: inner.registry,
    end: (sid: string, expiresAt: number) => {
      if (failing) throw new Error('the store timed out')
      inner.end(sid, expiresAt)
    }
  } as unknown as MemoryStore
  return { store, fail: (on) => { failing = on } }
}

test('an eviction whose end fails leaves the session listed, and a logout of the others ends it', async (t) => {
  const { store, fail } = flakyStore()
  const app = await buildApp(t, { maxSessionsPerUser: 2, loginThrottle: false, revocationStore: store })
  const old = await login(app)
  const current = await login(app)
  fail(true)
  const refused = await app.inject({ method: 'POST', url: '/@login', payload: { login: 'alice', password: 'wonderland' } })
  t.equal(refused.statusCode, 503, 'the login that could not evict fails closed')
  fail(false)
  t.equal((await app.inject({ url: '/me', headers: bearer(old) })).statusCode, 200, 'the session it meant to evict did not end')
  const listed = (await app.inject({ url: '/@sessions', headers: bearer(current) })).json().sessions.map((session: { id: string }) => session.id)
  t.ok(listed.includes(decodePayload(old).sid), 'the session still working is listed')
  t.equal((await app.inject({ method: 'POST', url: '/@logout', headers: bearer(current), payload: { others: true } })).statusCode, 204)
  t.equal((await app.inject({ url: '/me', headers: bearer(old) })).statusCode, 401, 'a logout of the others answered 204 ended it')
  t.equal((await app.inject({ url: '/me', headers: bearer(current) })).statusCode, 200, 'this session goes on')
})

test('when listing the session again fails too, the login still answers the store\'s 503', async (t) => {
  const { store, fail } = flakyStore()
  const inner = store.registry
  const registry = {
    touch: inner.touch.bind(inner),
    list: inner.list.bind(inner),
    ended: inner.ended.bind(inner),
    forget: inner.forget.bind(inner),
    add: (sub: string, entry: Parameters<typeof inner.add>[1], max: number) => {
      if (max > 1000) throw new Error('the registry is down too')
      return inner.add(sub, entry, max)
    }
  }
  const app = await buildApp(t, { maxSessionsPerUser: 1, loginThrottle: false, revocationStore: { ...store, session: store.session, subject: store.subject, renew: store.renew, end: store.end, endSubject: store.endSubject, registry } as unknown as MemoryStore })
  await login(app)
  fail(true)
  const refused = await app.inject({ method: 'POST', url: '/@login', payload: { login: 'alice', password: 'wonderland' } })
  t.equal(refused.statusCode, 503)
  t.equal(refused.json().code, 'FST_JWT_SESSION_STORE_UNAVAILABLE')
})
