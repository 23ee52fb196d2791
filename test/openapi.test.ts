import { test } from 'tap'
import Fastify from 'fastify'
import swagger from '@fastify/swagger'
import jwtAuth, { memoryStore } from '../lib/index'
import { verifyCredentials } from './helpers'
import { signingKey } from './key-pairs'

test('with @fastify/swagger and no other setting, the OpenAPI document is built', async (t) => {
  const app = Fastify()
  t.teardown(() => app.close())
  await app.register(swagger, { openapi: { info: { title: 'test', version: '1.0.0' } } })
  await app.register(jwtAuth, { secret: 'a-secret-of-at-least-thirty-two-bytes', verifyCredentials })
  await app.ready()
  const document = app.swagger() as { paths: Record<string, Record<string, any>> }
  t.same(Object.keys(document.paths).sort(), ['/@login', '/@login-renew', '/@logout'])
  const header = document.paths['/@login-renew']?.post.parameters[0]
  t.match(header, { in: 'header', name: 'authorization', required: false }, 'without a bearer scheme, the header is a documented parameter')
})

test('the OpenAPI document lists every route, its body, every response, and the bearer scheme as the README sets it', async (t) => {
  const app = Fastify()
  t.teardown(() => app.close())
  await app.register(swagger, {
    openapi: {
      info: { title: 'test', version: '1.0.0' },
      components: { securitySchemes: { bearerAuth: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' } } },
      security: [{ bearerAuth: [] }]
    }
  })
  await app.register(jwtAuth, { keys: [signingKey('ES256')], verifyCredentials, revocationStore: memoryStore() })
  await app.ready()
  const document = app.swagger() as { paths: Record<string, Record<string, any>>, components: any, security: unknown }

  const login = document.paths['/@login']?.post
  t.same(Object.keys(login.requestBody.content['application/json'].schema.properties), ['login', 'password'])
  t.same(Object.keys(login.responses).sort(), ['200', '400', '401', '413', '415', '429', '500', '503'])
  t.same(Object.keys(login.responses['200'].content['application/json'].schema.properties), ['token'])

  const renew = document.paths['/@login-renew']?.post
  t.same(Object.keys(renew.responses).sort(), ['200', '400', '401', '429', '500', '503'])

  const logout = document.paths['/@logout']?.post
  t.same(Object.keys(logout.requestBody.content['application/json'].schema.properties), ['all', 'others'])
  t.same(Object.keys(logout.responses).sort(), ['204', '400', '401', '415', '501', '503'])

  const sessions = document.paths['/@sessions']?.get
  t.same(Object.keys(sessions.responses).sort(), ['200', '401', '503'])
  t.same(Object.keys(sessions.responses['200'].content['application/json'].schema.properties.sessions.items.properties),
    ['id', 'current', 'createdAt', 'lastSeenAt', 'expiresAt', 'ip', 'userAgent'])
  const endOne = document.paths['/@sessions/{id}']?.delete
  t.same(Object.keys(endOne.responses).sort(), ['204', '401', '404', '503'])
  t.equal(endOne.parameters.find((parameter: { in: string }) => parameter.in === 'path').schema.pattern, '^[A-Za-z0-9_-]{22}$')

  const jwks = document.paths['/.well-known/jwks.json']?.get
  t.ok(jwks.responses['200'].content['application/json'].schema.properties.keys)
  t.same(document.components.securitySchemes.bearerAuth, { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' })
  t.same(document.security, [{ bearerAuth: [] }])
  t.same(login.tags, ['authentication'])
  t.same(login.security, [], 'no lock on the login route, despite the document-wide requirement')
  t.same(jwks.security, [], 'nor on the JWKS')
  t.equal(renew.security, undefined, 'renew keeps the document-wide bearer requirement')
  t.same(login.responses['401'].content['application/json'].schema.properties.statusCode.enum, [401], 'each error response names its status')
  t.same(renew.responses['503'].content['application/json'].schema.properties.statusCode.enum, [503])
})
