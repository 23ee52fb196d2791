import { test } from 'tap'
import Fastify, { type FastifyInstance, type InjectOptions } from 'fastify'
import { Type } from '@sinclair/typebox'
import jwtAuth, { redisStore, type AttemptCounter, type JwtSessionOptions } from '../lib/index'
import { addressKey, loginKey } from '../lib/throttle/login-throttle'
import { SECRET, buildApp, fakeClock, verifyCredentials } from './helpers'
import { RedisServer, connected } from './redis-server'

const WRONG = { login: 'alice', password: 'not-her-password' }
const RIGHT = { login: 'alice', password: 'wonderland' }

/** A login attempt from `address` (the client address Fastify sees). */
async function attempt (app: FastifyInstance, payload: Record<string, unknown>, address = '203.0.113.7'): Promise<Awaited<ReturnType<FastifyInstance['inject']>>> {
  const options: InjectOptions = { method: 'POST', url: '/@login', payload, remoteAddress: address }
  return await app.inject(options)
}

/** An app whose verifier counts its calls, so a test can tell a refused attempt never reached it. */
async function countingApp (t: Parameters<typeof buildApp>[0], options: JwtSessionOptions = {}): Promise<{ app: FastifyInstance, calls: () => number }> {
  let calls = 0
  const app = await buildApp(t, {
    verifyCredentials: async (credentials) => { calls++; return await verifyCredentials(credentials) },
    ...options
  })
  return { app, calls: () => calls }
}

test('after 10 failed logins for one name the next attempt gets 429 with Retry-After, even with the right password, and the verifier is not asked', async (t) => {
  const { app, calls } = await countingApp(t)
  for (let i = 0; i < 10; i++) t.equal((await attempt(app, WRONG)).statusCode, 401)
  const refused = await attempt(app, RIGHT)
  t.equal(refused.statusCode, 429)
  t.equal(refused.json().code, 'FST_JWT_SESSION_TOO_MANY_ATTEMPTS')
  t.equal(refused.json().message, 'Too many failed login attempts; try again later')
  t.equal(refused.headers['retry-after'], '900', 'the whole 15-minute window is left')
  t.notOk(refused.headers['www-authenticate'])
  t.equal(calls(), 10, 'the 11th attempt never reached the verifier')
  t.equal((await attempt(app, { login: 'bob', password: 'builder' })).statusCode, 200, 'another name is not held back')
})

test('an unknown login name is throttled exactly like a known one', async (t) => {
  const app = await buildApp(t)
  for (let i = 0; i < 10; i++) await attempt(app, { login: 'nobody', password: 'x' })
  const refused = await attempt(app, { login: 'nobody', password: 'x' })
  const known = await (async () => {
    for (let i = 0; i < 10; i++) await attempt(app, WRONG, '198.51.100.1')
    return await attempt(app, WRONG, '198.51.100.1')
  })()
  t.equal(refused.statusCode, 429)
  t.same(refused.json(), known.json())
})

test('successful logins are not counted: a user who logs in fifty times is never slowed', async (t) => {
  const app = await buildApp(t)
  for (let i = 0; i < 50; i++) {
    if ((await attempt(app, RIGHT)).statusCode !== 200) return t.fail(`login ${i} was refused`)
  }
  for (let i = 0; i < 9; i++) t.equal((await attempt(app, WRONG)).statusCode, 401)
  t.equal((await attempt(app, RIGHT)).statusCode, 200, 'nine failures, then the right password')
  t.equal((await attempt(app, WRONG)).statusCode, 401, 'the success did not count: this is the tenth failure')
  t.equal((await attempt(app, RIGHT)).statusCode, 429, 'and now the name is held back')
})

test('the window ends 15 minutes after its first failure, and Retry-After counts down to it', async (t) => {
  const clock = fakeClock(t)
  const app = await buildApp(t)
  for (let i = 0; i < 10; i++) await attempt(app, WRONG)
  clock.tick(10 * 60_000)
  const refused = await attempt(app, RIGHT)
  t.equal(refused.statusCode, 429)
  t.equal(refused.headers['retry-after'], '300')
  clock.tick(5 * 60_000 - 1)
  const last = await attempt(app, RIGHT)
  t.equal(last.statusCode, 429)
  t.equal(last.headers['retry-after'], '1', 'never 0 while refused')
  clock.tick(1)
  t.equal((await attempt(app, RIGHT)).statusCode, 200, 'a fresh window')
})

test('case and Unicode width do not give a login name a fresh budget', async (t) => {
  const app = await buildApp(t)
  const spellings = ['alice', 'Alice', 'ALICE', 'ａｌｉｃｅ', 'Ａlice']
  for (let i = 0; i < 10; i++) await attempt(app, { login: spellings[i % spellings.length], password: 'x' })
  t.equal((await attempt(app, RIGHT)).statusCode, 429)
  t.equal(loginKey('ＡＬＩＣＥ'), loginKey('alice'))
  t.match(loginKey('alice'), /^login:[A-Za-z0-9_-]{43}$/, 'the name itself is not kept, only its hash')
})

test('one address gets 100 failures across every name, then 429 for any name; other addresses are not held back', async (t) => {
  const { app, calls } = await countingApp(t)
  for (let i = 0; i < 100; i++) {
    if ((await attempt(app, { login: `user-${i}`, password: 'x' })).statusCode !== 401) return t.fail(`attempt ${i} was not a 401`)
  }
  const refused = await attempt(app, RIGHT)
  t.equal(refused.statusCode, 429)
  t.equal(refused.headers['retry-after'], '900')
  t.equal(calls(), 100)
  t.equal((await attempt(app, RIGHT, '198.51.100.2')).statusCode, 200, 'alice, from elsewhere, logs in')
  // The refused attempt gave back what it had counted for alice: she has a full budget left.
  for (let i = 0; i < 9; i++) t.equal((await attempt(app, WRONG, '198.51.100.3')).statusCode, 401)
  t.equal((await attempt(app, RIGHT, '198.51.100.3')).statusCode, 200)
})

test('IPv6 clients are counted by /64 network; IPv4-mapped addresses as IPv4', async (t) => {
  const app = await buildApp(t, { loginThrottle: { perLogin: false, perAddress: { max: 2 } } })
  await attempt(app, WRONG, '2001:db8:1:2::1')
  await attempt(app, WRONG, '2001:db8:1:2:ffff::9')
  t.equal((await attempt(app, RIGHT, '2001:db8:1:2:abcd::1')).statusCode, 429, 'the same /64')
  t.equal((await attempt(app, RIGHT, '2001:db8:1:3::1')).statusCode, 200, 'the next /64')
  t.equal(addressKey('::ffff:192.0.2.1'), 'addr:192.0.2.1')
  t.equal(addressKey('192.0.2.1'), 'addr:192.0.2.1')
  t.equal(addressKey('2001:DB8::1'), 'addr:2001:db8:0:0::/64')
  t.equal(addressKey('not an address'), 'addr:not an address', 'whatever Fastify reports is still counted')
})

test('the limits, the window and the login name are configurable; false turns the throttle off', async (t) => {
  t.test('custom limits and window', async (t) => {
    const app = await buildApp(t, { loginThrottle: { perLogin: { max: 3, window: '1m' }, perAddress: false } })
    for (let i = 0; i < 3; i++) await attempt(app, WRONG)
    const refused = await attempt(app, RIGHT)
    t.equal(refused.statusCode, 429)
    t.equal(refused.headers['retry-after'], '60')
  })
  t.test('a custom body with the login name elsewhere', async (t) => {
    const app = await buildApp(t, {
      credentialsSchema: Type.Object({ email: Type.String(), password: Type.String() }),
      verifyCredentials: async ({ email, password }) => await verifyCredentials({ login: String(email), password }),
      loginThrottle: { perLogin: { max: 2 }, loginName: (credentials) => credentials.email as string }
    })
    await attempt(app, { email: 'alice', password: 'x' })
    await attempt(app, { email: 'alice', password: 'x' })
    t.equal((await attempt(app, { email: 'alice', password: 'wonderland' })).statusCode, 429)
  })
  t.test('a body with no login name is held back by the address limit only', async (t) => {
    const app = await buildApp(t, {
      credentialsSchema: Type.Object({ pin: Type.String() }),
      verifyCredentials: async ({ pin }) => pin === '0000' ? { sub: 'u-kiosk' } : null,
      loginThrottle: { perAddress: { max: 12 } }
    })
    for (let i = 0; i < 12; i++) t.equal((await attempt(app, { pin: String(i) })).statusCode, 401)
    t.equal((await attempt(app, { pin: '0000' })).statusCode, 429)
  })
  t.test('off', async (t) => {
    const app = await buildApp(t, { loginThrottle: false })
    for (let i = 0; i < 120; i++) {
      if ((await attempt(app, WRONG)).statusCode !== 401) return t.fail(`attempt ${i} was not a 401`)
    }
    t.equal((await attempt(app, RIGHT)).statusCode, 200)
  })
})

test('concurrent wrong attempts never reach the verifier more often than the limit allows', async (t) => {
  const { app, calls } = await countingApp(t)
  const answers = await Promise.all(Array.from({ length: 40 }, async () => (await attempt(app, WRONG)).statusCode))
  t.equal(calls(), 10)
  t.equal(answers.filter((status) => status === 401).length, 10)
  t.equal(answers.filter((status) => status === 429).length, 30)
})

test('with the Redis store the counts are shared by every instance, atomically', async (t) => {
  const server = await RedisServer.start(t)
  const instances = await Promise.all([1, 2].map(async () => {
    const client = server.client()
    await connected(client)
    const store = redisStore({ client })
    t.teardown(async () => await store.close())
    return await countingApp(t, { revocationStore: store })
  }))
  const [one, two] = instances as [typeof instances[0], typeof instances[0]]
  const answers = await Promise.all(Array.from({ length: 30 }, async (_, i) => (await attempt(i % 2 === 0 ? one.app : two.app, WRONG)).statusCode))
  t.equal(one.calls() + two.calls(), 10, 'ten failures in all, across both instances')
  t.equal(answers.filter((status) => status === 429).length, 20)
  const refused = await attempt(two.app, RIGHT)
  t.equal(refused.statusCode, 429)
  t.ok(Number(refused.headers['retry-after']) > 890)
  const redis = await server.admin()
  const keys = await redis.keys('jwt-session:attempts:*')
  t.same(keys.sort(), [`jwt-session:attempts:${addressKey('203.0.113.7')}`, `jwt-session:attempts:${loginKey('alice')}`].sort())
  t.equal(await redis.get(`jwt-session:attempts:${loginKey('alice')}`), '10')
  t.ok(await redis.pttl(`jwt-session:attempts:${loginKey('alice')}`) > 890_000, 'every counter expires with its window')
  t.equal((await attempt(one.app, { login: 'bob', password: 'builder' })).statusCode, 200)
  t.equal(await redis.get(`jwt-session:attempts:${addressKey('203.0.113.7')}`), '10', 'the success was uncounted in Redis too')
})

test('a Redis counter with a lost expiry gets its window back instead of holding a name forever', async (t) => {
  const server = await RedisServer.start(t)
  const client = server.client()
  await connected(client)
  const store = redisStore({ client })
  t.teardown(async () => await store.close())
  const redis = await server.admin()
  await redis.set(`jwt-session:attempts:${loginKey('alice')}`, '10')
  const app = await buildApp(t, { revocationStore: store })
  const refused = await attempt(app, RIGHT)
  t.equal(refused.statusCode, 429)
  t.equal(refused.headers['retry-after'], '900')
  t.ok(await redis.pttl(`jwt-session:attempts:${loginKey('alice')}`) > 0)
  await redis.set(`jwt-session:attempts:${loginKey('bob')}`, 'garbage')
  t.equal((await attempt(app, { login: 'bob', password: 'builder' })).statusCode, 503, 'a counter Redis cannot count fails closed')
})

/** A counter that fails the way `fail` says, to reach the fail-closed branches. */
function failingCounter (take: AttemptCounter['take'], release: AttemptCounter['release'] = () => {}): AttemptCounter {
  return { take, release }
}

test('a counter that fails refuses the login with 503, before the verifier is asked', async (t) => {
  const failures: Record<string, AttemptCounter['take']> = {
    throws: () => { throw new Error('counter secret detail') },
    rejects: async () => { throw new Error('counter secret detail') },
    'never answers': async () => await new Promise<number>(() => {}),
    'answers a string': () => 'soon' as unknown as number,
    'answers NaN': () => NaN,
    'answers a negative number': () => -5
  }
  for (const [name, take] of Object.entries(failures)) {
    const { app, calls } = await countingApp(t, { storeTimeout: 50, loginThrottle: { counter: failingCounter(take) } })
    const response = await attempt(app, RIGHT)
    t.equal(response.statusCode, 503, name)
    t.equal(response.json().code, 'FST_JWT_SESSION_STORE_UNAVAILABLE', name)
    t.equal(response.headers['retry-after'], '5', name)
    t.notMatch(response.body, /secret detail/, name)
    t.equal(calls(), 0, `${name}: the verifier was not asked`)
  }
})

test('a counter that cannot uncount a successful login still lets the user in, and says so at warn', async (t) => {
  const lines: Array<{ level: number, msg: string }> = []
  const app = Fastify({ logger: { level: 'warn', stream: { write: (line: string) => { lines.push(JSON.parse(line)) } } } })
  t.teardown(() => app.close())
  await app.register(jwtAuth, {
    secret: SECRET,
    verifyCredentials,
    loginThrottle: { counter: failingCounter(() => 0, async () => { throw new Error('gone') }) }
  })
  t.equal((await attempt(app, RIGHT)).statusCode, 200)
  t.match(lines, [{ level: 40, msg: 'fastify-jwt-session: a successful login stayed counted as a failure' }])
})
