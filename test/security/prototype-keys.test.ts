import { test } from 'tap'
import { Writable } from 'node:stream'
import Fastify from 'fastify'
import jwtAuth, { memoryStore } from '../../lib/index'
import { SECRET, bearer, buildApp, encode, validClaims } from '../helpers'
import { createHmac } from 'node:crypto'

/*
 * Finding 6: a `__proto__` claim, from a token or from the host's `claims`, became an own
 * property of `request.user`, and `Object.assign({}, request.user)` then inherited from it.
 */

/** Signs a payload given as raw JSON text: `__proto__` written as a key, as an attacker would. */
function signRaw (payloadJson: string): string {
  const input = `${encode({ alg: 'HS256', typ: 'JWT' })}.${encode(payloadJson)}`
  return `${input}.${createHmac('sha256', SECRET).update(input).digest('base64url')}`
}

test('a token with a __proto__, constructor or prototype key, at any depth, is refused (401)', async (t) => {
  const app = await buildApp(t, {}, (server) => {
    server.get('/copy', { onRequest: server.authenticate }, async (request) => ({ isAdmin: (Object.assign({}, request.user) as { isAdmin?: unknown }).isAdmin ?? false }))
  })
  const claims = JSON.stringify(validClaims()).slice(1, -1)
  for (const extra of [
    '"__proto__":{"isAdmin":true}',
    '"constructor":{"prototype":{"isAdmin":true}}',
    '"prototype":1',
    '"profile":{"__proto__":{"isAdmin":true}}',
    '"profile":[{"deep":{"constructor":1}}]'
  ]) {
    const token = signRaw(`{${claims},${extra}}`)
    const response = await app.inject({ url: '/copy', headers: bearer(token) })
    t.equal(response.statusCode, 401, extra)
    t.equal(response.json().code, 'FST_JWT_SESSION_INVALID_TOKEN', extra)
  }
  t.same((await app.inject({ url: '/copy', headers: bearer(signRaw(`{${claims},"profile":{"proto":1}}`)) })).json(), { isAdmin: false }, 'other keys pass')
})

test('host claims with a prototype key are a host bug: a plain 500, logged, and no token', async (t) => {
  const lines: string[] = []
  const app = Fastify({ logger: { level: 'error', stream: new Writable({ write (chunk, _encoding, callback) { lines.push(String(chunk)); callback() } }) } })
  t.teardown(() => app.close())
  const users: Record<string, unknown> = {
    top: JSON.parse('{"__proto__":{"isAdmin":true}}'),
    nested: { profile: JSON.parse('{"a":{"constructor":1}}') },
    prototype: { prototype: 1 }
  }
  await app.register(jwtAuth, {
    secret: SECRET,
    revocationStore: memoryStore(),
    verifyCredentials: async ({ login }) => ({ sub: login, claims: users[login] as Record<string, unknown> })
  })
  for (const login of Object.keys(users)) {
    const response = await app.inject({ method: 'POST', url: '/@login', payload: { login, password: 'any' } })
    t.equal(response.statusCode, 500, login)
    t.same(response.json(), { statusCode: 500, error: 'Internal Server Error', message: 'Internal Server Error' }, login)
  }
  t.match(lines.join(''), /claims may not hold a \\"__proto__\\" key/, 'the reason is logged')
  t.match(lines.join(''), /claims may not hold a \\"constructor\\" key \(at claims.profile.a\)/)
})
