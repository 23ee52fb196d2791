import Fastify from 'fastify'
import { expect, test } from 'tstyche'
import jwtAuth, { memoryStore, type Health, type PartHealth, type RevocationStore } from 'fastify-jwt-session'

const app = Fastify()

test('jwtAuth.health() answers Health: ready, and the store, keys and feed parts', () => {
  expect(app.jwtAuth.health()).type.toBe<Health>()
  expect(app.jwtAuth.health).type.toBe<() => Health>()
  expect(app.jwtAuth.health().ready).type.toBe<boolean>()
  expect(app.jwtAuth.health().store).type.toBe<PartHealth>()
  expect(app.jwtAuth.health().keys).type.toBe<PartHealth>()
  expect(app.jwtAuth.health().feed).type.toBe<PartHealth>()
  expect(app.jwtAuth.health().feed.state).type.toBe<string>()
  expect(app.jwtAuth.health().feed.since).type.toBe<number>()
  // Any other part, or an argument, is an error.
  expect(app.jwtAuth.health()).type.not.toHaveProperty('mirror')
  expect(app.jwtAuth.health).type.not.toBeCallableWith('store')
})

test('what health() answers is read-only', () => {
  const health = app.jwtAuth.health()
  expect(() => { health.ready = false }).type.toRaiseError()
  expect(() => { health.store.state = 'ready' }).type.toRaiseError()
  expect(() => { health.store.since = 0 }).type.toRaiseError()
})

test('a store\'s health() is optional and answers one part', () => {
  expect<RevocationStore['health']>().type.toBe<(() => PartHealth) | undefined>()
  expect(memoryStore().health?.()).type.toBe<PartHealth | undefined>()
  const store: RevocationStore = {
    session: () => undefined,
    subject: () => undefined,
    renew: () => ({ generation: 1, renewedAt: 0, ended: false }),
    end: () => {},
    endSubject: () => {}
  }
  expect(app.register(jwtAuth, { secret: 'x', revocationStore: { ...store, health: () => ({ state: 'ready', since: 0 }) } })).type.not.toRaiseError()
  expect(app.register(jwtAuth, { secret: 'x', revocationStore: { ...store, health: () => ({ state: 'ready' }) } })).type.toRaiseError()
  expect(app.register(jwtAuth, { secret: 'x', revocationStore: { ...store, health: () => 'ready' } })).type.toRaiseError()
})
