import { test } from 'tap'
import Fastify, { type FastifyInstance } from 'fastify'
import cookiePlugin from '@fastify/cookie'
import jwtAuth, { memoryStore } from '../../lib/index'
import { SECRET, bearer, verifyCredentials } from '../helpers'

/* Point 8: a logout with an already-revoked cookie answered 401 and left the cookie in place. */

async function cookieApp (t: { teardown (fn: () => unknown): void }): Promise<FastifyInstance> {
  const app = Fastify()
  t.teardown(() => app.close())
  await app.register(cookiePlugin)
  await app.register(jwtAuth, { secret: SECRET, verifyCredentials, revocationStore: memoryStore(), cookie: true })
  return app
}

/** Whether the answer asks the browser to drop the session cookie. */
function clears (response: Awaited<ReturnType<FastifyInstance['inject']>>): boolean {
  return (response.cookies as Array<{ name: string, value: string, maxAge?: number, expires?: Date }>)
    .some((cookie) => cookie.name === '__Host-session' && cookie.value === '' && (cookie.maxAge === 0 || (cookie.expires?.getTime() ?? Infinity) <= Date.now()))
}

test('a logout with a revoked cookie answers 401 and clears the cookie', async (t) => {
  const app = await cookieApp(t)
  const answer = await app.inject({ method: 'POST', url: '/@login', payload: { login: 'alice', password: 'wonderland' } })
  const cookie = `__Host-session=${(answer.cookies as Array<{ value: string }>)[0]?.value as string}`
  const csrf = { cookie, 'x-csrf-token': answer.json().csrfToken as string }
  const first = await app.inject({ method: 'POST', url: '/@logout', headers: csrf })
  t.equal(first.statusCode, 204)
  t.ok(clears(first))
  const again = await app.inject({ method: 'POST', url: '/@logout', headers: csrf })
  t.equal(again.statusCode, 401)
  t.equal(again.json().code, 'FST_JWT_SESSION_REVOKED_TOKEN')
  t.ok(clears(again), 'the dead cookie is cleared')
  const garbage = await app.inject({ method: 'POST', url: '/@logout', headers: { cookie: '__Host-session=not-a-token', 'x-csrf-token': 'x' } })
  t.equal(garbage.statusCode, 401)
  t.ok(clears(garbage), 'an invalid cookie too')
})

test('a logout refused for a missing CSRF token, or sent with a Bearer header, clears nothing', async (t) => {
  const app = await cookieApp(t)
  const answer = await app.inject({ method: 'POST', url: '/@login', payload: { login: 'alice', password: 'wonderland' } })
  const cookie = `__Host-session=${(answer.cookies as Array<{ value: string }>)[0]?.value as string}`
  const forged = await app.inject({ method: 'POST', url: '/@logout', headers: { cookie } })
  t.equal(forged.statusCode, 403, 'another site cannot log the user out')
  t.notOk(clears(forged))
  const withHeader = await app.inject({ method: 'POST', url: '/@logout', headers: { cookie, ...bearer('not-a-token') } })
  t.equal(withHeader.statusCode, 401)
  t.notOk(clears(withHeader), 'the header was refused, not the cookie')
})
