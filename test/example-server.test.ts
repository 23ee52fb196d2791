import { test } from 'tap'
import { buildServer, start } from '../examples/server'
import { checkCredentials } from '../examples/users'
import { fakeClock } from './helpers'
import { RedisServer, eventually } from './redis-server'

const env = { JWT_SECRET: 'an-example-secret-of-at-least-32-bytes' }

async function loginAs (app: Awaited<ReturnType<typeof buildServer>>, name: string, password = name): Promise<{ statusCode: number, token: string }> {
  const response = await app.inject({ method: 'POST', url: '/@login', payload: { login: name, password } })
  return { statusCode: response.statusCode, token: response.json().token }
}

test('the example: admin reaches /protected and /admin, roger only /protected', async (t) => {
  const app = await buildServer(env, undefined, { logger: false })
  t.teardown(() => app.close())
  const admin = await loginAs(app, 'admin')
  const roger = await loginAs(app, 'roger')
  t.equal(admin.statusCode, 200)
  const auth = (token: string): Record<string, string> => ({ authorization: `Bearer ${token}` })
  t.same((await app.inject({ url: '/protected', headers: auth(admin.token) })).json(), { status: 'ok', user: 'admin' })
  t.same((await app.inject({ url: '/admin', headers: auth(admin.token) })).json(), { status: 'ok', user: 'admin' })
  t.same((await app.inject({ url: '/protected', headers: auth(roger.token) })).json(), { status: 'ok', user: 'roger' })
  t.equal((await app.inject({ url: '/admin', headers: auth(roger.token) })).statusCode, 403)
  t.match((await app.inject({ url: '/health' })).json(), { ready: true, store: { state: 'ready' } }, 'the readiness probe')
  t.match((await app.inject({ url: '/metrics' })).body, /jwt_session_events_total\{event="login",code=""\} 2/, 'the logins counted')
  t.equal((await app.inject({ url: '/protected' })).statusCode, 401)
  const claims = JSON.parse(Buffer.from(admin.token.split('.')[1] as string, 'base64url').toString())
  t.equal(claims.fullname, 'Ada Admin')
  t.same(claims.roles, ['admin'])

  const renewed = await app.inject({ method: 'POST', url: '/@login-renew', headers: auth(admin.token) })
  t.equal(renewed.statusCode, 200)
  t.equal((await app.inject({ url: '/protected', headers: auth(admin.token) })).statusCode, 200, 'the old token lives on for renewGrace')
  const fresh = renewed.json().token
  t.equal((await app.inject({ method: 'POST', url: '/@logout', headers: auth(fresh) })).statusCode, 204)
  t.equal((await app.inject({ url: '/protected', headers: auth(fresh) })).statusCode, 401)
  t.equal((await app.inject({ url: '/protected', headers: auth(admin.token) })).statusCode, 401, 'the logout ended the session, the old token with it')
})

test('the example refuses wrong passwords and unknown users alike', async (t) => {
  const app = await buildServer(env, undefined, { logger: false })
  t.teardown(() => app.close())
  const wrong = await app.inject({ method: 'POST', url: '/@login', payload: { login: 'admin', password: 'nope' } })
  const unknown = await app.inject({ method: 'POST', url: '/@login', payload: { login: 'mallory', password: 'admin' } })
  t.equal(wrong.statusCode, 401)
  t.equal(wrong.body, unknown.body)
  t.equal(await checkCredentials({ login: '__proto__', password: 'x' }), null, 'no prototype lookups')
})

test('the example reads its settings from the environment, with a random secret when unset', async (t) => {
  const lines: string[] = []
  const stream = { write: (line: string) => { lines.push(line) } }
  const app = await buildServer({ JWT_EXPIRES_IN: '900', JWT_MAX_SESSION_AGE: '1d' }, undefined, { logger: { stream } })
  t.teardown(() => app.close())
  t.match(lines.join(''), /JWT_SECRET is not set/)
  const { token } = await loginAs(app, 'roger')
  const claims = JSON.parse(Buffer.from(token.split('.')[1] as string, 'base64url').toString())
  t.equal(claims.exp - claims.iat, 900)
})

test('start() listens on HOST and PORT', async (t) => {
  const app = await start({ ...env, PORT: '0', HOST: '127.0.0.1' })
  t.teardown(() => app.close())
  const address = app.server.address()
  t.equal(typeof address === 'object' && address !== null ? address.address : '', '127.0.0.1')
  const port = typeof address === 'object' && address !== null ? address.port : 0
  const response = await fetch(`http://127.0.0.1:${port}/@login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ login: 'roger', password: 'roger' }) })
  t.equal(response.status, 200)
})

test('the example serves Swagger UI at /docs, with the plugin\'s routes and the bearer scheme', async (t) => {
  const app = await buildServer(env, undefined, { logger: false })
  t.teardown(() => app.close())
  const page = await app.inject({ url: '/docs' })
  t.equal(page.statusCode, 200)
  t.match(page.headers['content-type'], /text\/html/)
  const document = (await app.inject({ url: '/docs/json' })).json()
  t.same(Object.keys(document.paths).sort(), ['/@login', '/@login-renew', '/@logout', '/@sessions', '/@sessions/{id}', '/admin', '/health', '/protected'])
  t.same(document.components.securitySchemes.bearerAuth, { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' })
})

test('the example throttles guessing: the eleventh try at one name gets 429, even with the right password', async (t) => {
  // Date stands still, so that Retry-After does not depend on how long ten scrypt checks take.
  fakeClock(t)
  const app = await buildServer(env, undefined, { logger: false })
  t.teardown(() => app.close())
  for (let i = 0; i < 10; i++) t.equal((await loginAs(app, 'roger', `guess-${i}`)).statusCode, 401)
  const response = await app.inject({ method: 'POST', url: '/@login', payload: { login: 'roger', password: 'roger' } })
  t.equal(response.statusCode, 429)
  // The window started with the first failure; ten scrypt checks on a busy machine may take a second or more.
  t.ok(Number(response.headers['retry-after']) > 880 && Number(response.headers['retry-after']) <= 900, 'Retry-After: the rest of the 15-minute window')
  t.equal((await loginAs(app, 'admin')).statusCode, 200, 'another user is not held back')
})

test('two example servers pointed at one Redis share logouts; Redis down gives 503, back up heals', async (t) => {
  const redis = await RedisServer.start(t)
  const redisEnv = { ...env, REDIS_URL: `redis://127.0.0.1:${redis.port}` }
  const one = await buildServer(redisEnv, undefined, { logger: false })
  const two = await buildServer(redisEnv, undefined, { logger: false })
  t.teardown(async () => { await one.close(); await two.close() })
  // A login is counted in Redis (the login throttle): 503 until the client has connected.
  await eventually(async () => (await loginAs(one, 'roger')).statusCode === 200)
  const { token } = await loginAs(one, 'roger')
  const auth = { authorization: `Bearer ${token}` }
  // Each mirror answers 503 until it has loaded; wait for both.
  for (const app of [one, two]) await eventually(async () => (await app.inject({ url: '/protected', headers: auth })).statusCode === 200)
  t.equal((await one.inject({ method: 'POST', url: '/@logout', headers: auth })).statusCode, 204)
  await eventually(async () => (await two.inject({ url: '/protected', headers: auth })).statusCode === 401)
  t.pass('the logout at one server is refused by the other')

  const { token: live } = await loginAs(two, 'admin')
  const liveAuth = { authorization: `Bearer ${live}` }
  await redis.stop()
  await eventually(async () => (await one.inject({ url: '/protected', headers: liveAuth })).statusCode === 503)
  t.equal((await two.inject({ method: 'POST', url: '/@logout', headers: liveAuth })).statusCode, 503)
  await redis.run()
  await eventually(async () => (await one.inject({ url: '/protected', headers: liveAuth })).statusCode === 200)
  t.pass('healed without a restart')
  await redis.stop()
  await one.close()
  t.pass('the app closes even while its Redis client cannot reach Redis')
})
