import jwtAuth, { memoryStore } from 'fastify-jwt-session'
import Fastify from 'fastify'
import { expect, test } from 'tstyche'

test('ESM consumers get the same plugin as the default import', () => {
  const app = Fastify()
  expect(app.register(jwtAuth, { secret: 'x', revocationStore: memoryStore(), routes: false })).type.not.toRaiseError()
  expect(app.register(jwtAuth, { secret: 'x', nope: 1 })).type.toRaiseError()
})
