import { test, type Test } from 'tap'
import { Writable } from 'node:stream'
import Fastify, { type FastifyInstance, type FastifyRequest } from 'fastify'
import cookiePlugin from '@fastify/cookie'
import jwtAuth, { memoryStore, type JwtSessionOptions } from '../lib/index'
import { SECRET, bearer, decodePayload, verifyCredentials } from './helpers'

/** One call of an audit hook: which, the event, and the request's address. */
type Call = [string, Record<string, unknown>, string]

/** A log line, parsed. */
interface Line { level: number, msg: string, [key: string]: unknown }

/** An app whose four audit hooks record their calls, with its log captured from `level` up. */
async function auditedApp (t: Test, options: JwtSessionOptions = {}, level = 'trace'): Promise<{ app: FastifyInstance, calls: Call[], lines: Line[] }> {
  const calls: Call[] = []
  const lines: Line[] = []
  const record = (name: string) => async (event: object, request: FastifyRequest) => {
    t.ok(Object.isFrozen(event), `${name}: the event is frozen`)
    calls.push([name, { ...event }, request.ip])
  }
  const app = Fastify({ logger: { level, stream: new Writable({ write (chunk, _encoding, callback) { lines.push(JSON.parse(String(chunk))); callback() } }) } })
  t.teardown(() => app.close())
  await app.register(cookiePlugin)
  await app.register(jwtAuth, {
    secret: SECRET,
    verifyCredentials,
    revocationStore: memoryStore(),
    onLogin: record('onLogin'),
    onLoginFailed: record('onLoginFailed'),
    onRenew: record('onRenew'),
    onLogout: record('onLogout'),
    ...options
  })
  app.get('/me', { onRequest: app.authenticate }, async (request) => request.user)
  await app.ready()
  return { app, calls, lines }
}

const ALICE = { login: 'alice', password: 'wonderland' }

test('each hook is told who and which session, never the password or the token', async (t) => {
  const { app, calls } = await auditedApp(t, { loginThrottle: { perLogin: { max: 1 } } })
  const token = (await app.inject({ method: 'POST', url: '/@login', payload: ALICE })).json().token as string
  const claims = decodePayload(token)
  await app.inject({ method: 'POST', url: '/@login', payload: { login: 'bob', password: 'wrong' } })
  await app.inject({ method: 'POST', url: '/@login', payload: { login: 'bob', password: 'builder' } })
  const renewed = (await app.inject({ method: 'POST', url: '/@login-renew', headers: bearer(token) })).json().token as string
  await app.inject({ method: 'POST', url: '/@logout', headers: bearer(renewed) })
  const other = (await app.inject({ method: 'POST', url: '/@login', payload: ALICE })).json().token as string
  await app.inject({ method: 'POST', url: '/@logout', headers: bearer(other), payload: { all: true } })

  t.same(calls, [
    ['onLogin', { sub: 'u-alice', sid: claims.sid, jti: claims.jti }, '127.0.0.1'],
    ['onLoginFailed', { login: 'bob', reason: 'invalid_credentials' }, '127.0.0.1'],
    ['onLoginFailed', { login: 'bob', reason: 'throttled' }, '127.0.0.1'],
    ['onRenew', { sub: 'u-alice', sid: claims.sid, jti: decodePayload(renewed).jti, previousJti: claims.jti }, '127.0.0.1'],
    ['onLogout', { sub: 'u-alice', sid: claims.sid, all: false }, '127.0.0.1'],
    ['onLogin', { sub: 'u-alice', sid: decodePayload(other).sid, jti: decodePayload(other).jti }, '127.0.0.1'],
    ['onLogout', { sub: 'u-alice', sid: decodePayload(other).sid, all: true }, '127.0.0.1']
  ])
  const told = JSON.stringify(calls)
  for (const secret of ['wonderland', 'builder', token, renewed, other]) t.notOk(told.includes(secret), 'no password or token')
})

test('a hook that throws is logged at error and changes no answer', async (t) => {
  const boom = async (): Promise<void> => { throw new Error('audit database down') }
  const { app, lines } = await auditedApp(t, { onLogin: boom, onLoginFailed: boom, onRenew: boom, onLogout: boom })
  const login = await app.inject({ method: 'POST', url: '/@login', payload: ALICE })
  t.equal(login.statusCode, 200)
  const token = login.json().token as string
  t.equal((await app.inject({ method: 'POST', url: '/@login', payload: { login: 'alice', password: 'x' } })).statusCode, 401)
  const renewed = await app.inject({ method: 'POST', url: '/@login-renew', headers: bearer(token) })
  t.equal(renewed.statusCode, 200)
  t.equal((await app.inject({ method: 'POST', url: '/@logout', headers: bearer(renewed.json().token) })).statusCode, 204)
  const failures = lines.filter((line) => line.level === 50).map((line) => line.msg)
  t.same(failures, ['onLogin', 'onLoginFailed', 'onRenew', 'onLogout'].map((name) => `fastify-jwt-session: the ${name} hook failed`))
})

test('log levels: refused logins at warn, logins and logouts at info, renewals at debug, nothing per request', async (t) => {
  const { app, lines } = await auditedApp(t, {}, 'debug')
  const token = (await app.inject({ method: 'POST', url: '/@login', payload: ALICE })).json().token as string
  await app.inject({ method: 'POST', url: '/@login', payload: { login: 'alice', password: 'typed-in-the-wrong-field' } })
  const before = lines.length
  for (let i = 0; i < 5; i++) await app.inject({ url: '/me', headers: bearer(token) })
  await app.inject({ url: '/me', headers: bearer('bad.token.here') })
  t.same(lines.slice(before).filter((line) => line.msg.startsWith('fastify-jwt-session')), [], 'authenticate logs nothing of its own')
  const renewed = (await app.inject({ method: 'POST', url: '/@login-renew', headers: bearer(token) })).json().token as string
  await app.inject({ method: 'POST', url: '/@logout', headers: bearer(renewed) })
  const ours = lines.filter((line) => line.msg.startsWith('fastify-jwt-session')).map((line) => [line.level, line.msg])
  t.same(ours, [
    [30, 'fastify-jwt-session: logged in'],
    [40, 'fastify-jwt-session: login refused'],
    [20, 'fastify-jwt-session: renewed'],
    [30, 'fastify-jwt-session: logged out']
  ])
  const refused = lines.find((line) => line.level === 40) as Line
  t.equal(refused.reason, 'invalid_credentials')
  t.notOk(JSON.stringify(lines).includes('"alice"'), 'no login name in the log: a password may have been typed there')
  t.notOk(JSON.stringify(lines).includes('typed-in-the-wrong-field'))
})

test('in cookie mode the hooks are told the same, and the cookie is not in the log', async (t) => {
  const { app, calls, lines } = await auditedApp(t, { cookie: true })
  const login = await app.inject({ method: 'POST', url: '/@login', payload: ALICE })
  const token = (login.cookies as Array<{ value: string }>)[0]?.value as string
  await app.inject({ method: 'POST', url: '/@logout', headers: { cookie: `__Host-session=${token}`, 'x-csrf-token': login.json().csrfToken } })
  t.same(calls.map(([name]) => name), ['onLogin', 'onLogout'])
  t.notOk(JSON.stringify(lines).includes(token))
})

test('an audit hook that is not a function is refused at registration', async (t) => {
  for (const name of ['onLogin', 'onLoginFailed', 'onRenew', 'onLogout']) {
    const app = Fastify()
    t.teardown(() => app.close())
    const error = await app.register(jwtAuth, { secret: SECRET, verifyCredentials, [name]: 'log it' }).then(() => undefined, (error: unknown) => error)
    t.match((error as Error).message, new RegExp(`${name} must be a function`))
  }
})
