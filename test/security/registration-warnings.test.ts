import { test } from 'tap'
import { Writable } from 'node:stream'
import Fastify from 'fastify'
import cookiePlugin from '@fastify/cookie'
import jwtAuth, { memoryStore, type JwtSessionOptions } from '../../lib/index'
import { SECRET, verifyCredentials } from '../helpers'

/*
 * Point 8: a 32-byte secret of one repeated character was accepted silently, and so was a
 * cookie name without the `__Host-` prefix. Both are allowed, and now logged as warnings.
 */

/** The warnings logged while registering the plugin with `options`. */
async function warningsFor (t: { teardown (fn: () => unknown): void }, options: JwtSessionOptions): Promise<string[]> {
  const lines: Array<{ level: number, msg: string }> = []
  const app = Fastify({ logger: { level: 'warn', stream: new Writable({ write (chunk, _encoding, callback) { lines.push(JSON.parse(String(chunk))); callback() } }) } })
  t.teardown(() => app.close())
  await app.register(cookiePlugin)
  await app.register(jwtAuth, { secret: SECRET, verifyCredentials, revocationStore: memoryStore(), ...options })
  await app.ready()
  return lines.filter((line) => line.level === 40).map((line) => line.msg)
}

test('a secret of one repeated byte, or of very few, is warned about at registration', async (t) => {
  for (const secret of ['x'.repeat(32), 'ab'.repeat(16), 'passwordpasswordpasswordpassword', Buffer.alloc(64)]) {
    const warnings = await warningsFor(t, { secret, ...(Buffer.isBuffer(secret) ? { algorithm: 'HS512' as const } : {}) })
    t.equal(warnings.length, 1, String(secret).slice(0, 8))
    t.match(warnings[0], /the secret looks weak \(about \d+ bits, from \d+ distinct bytes\)/)
    t.notOk(warnings[0]?.includes(String(secret)), 'the secret itself is not logged')
  }
  t.same(await warningsFor(t, { secret: SECRET }), [], 'a varied secret is not')
  t.same(await warningsFor(t, { secret: '3f9a1c07e2b84d5f6a0e9c3b7d21f845' }), [], 'nor 16 random bytes in hex')
})

test('a cookie name without the __Host- prefix is warned about at registration', async (t) => {
  const warnings = await warningsFor(t, { cookie: { name: 'session' } })
  t.equal(warnings.length, 1)
  t.match(warnings[0], /cookie.name "session" lacks the __Host- prefix/)
  t.same(await warningsFor(t, { cookie: { name: '__Host-sid' } }), [])
  t.same(await warningsFor(t, { cookie: true }), [])
})
