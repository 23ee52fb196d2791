import { test } from 'tap'
import Fastify from 'fastify'
import jwtAuth, { memoryStore, OptionError, type JwtSessionOptions } from '../lib/index'
import { SECRET, verifyCredentials } from './helpers'

/** Registers the plugin with `options` and answers the rejection, if any. */
async function register (t: { teardown (fn: () => unknown): void }, options: unknown): Promise<unknown> {
  const app = Fastify()
  t.teardown(() => app.close())
  return await app.register(jwtAuth, options as JwtSessionOptions).then(() => undefined, (error: unknown) => error)
}

const base = { secret: SECRET, verifyCredentials }

const refused: Array<[string, unknown, RegExp]> = [
  ['no key at all', { verifyCredentials }, /one of secret, keys or jwks is required/],
  ['a secret of the wrong type', { ...base, secret: 42 }, /secret must be a string or a Buffer/],
  ['a 31-byte secret for HS256', { ...base, secret: 'x'.repeat(31) }, /secret must be at least 32 bytes for HS256, got 31/],
  ['a 32-byte secret for HS384', { ...base, secret: 'x'.repeat(32), algorithm: 'HS384' }, /secret must be at least 48 bytes for HS384/],
  ['a 48-byte secret for HS512', { ...base, secret: 'x'.repeat(48), algorithm: 'HS512' }, /secret must be at least 64 bytes for HS512/],
  ['an unknown algorithm', { ...base, algorithm: 'none' }, /algorithm must be one of HS256, HS384, HS512, got "none"/],
  ['an asymmetric algorithm with a secret', { ...base, algorithm: 'RS256' }, /algorithm must be one of/],
  ['a login route with no verifyCredentials', { secret: SECRET }, /verifyCredentials is required/],
  ['a verifyCredentials that is no function', { ...base, verifyCredentials: 'yes' }, /verifyCredentials must be a function/],
  ['a loadUser that is no function', { ...base, loadUser: {} }, /loadUser must be a function/],
  ['a negative expiresIn', { ...base, expiresIn: -5 }, /expiresIn must be a positive whole number of seconds/],
  ['a zero expiresIn', { ...base, expiresIn: 0 }, /expiresIn must be a positive/],
  ['a fractional expiresIn', { ...base, expiresIn: 1.5 }, /expiresIn must be a positive/],
  ['an unparsable expiresIn', { ...base, expiresIn: 'soon' }, /expiresIn must be a positive whole number of seconds or a duration such as '12h', got "soon"/],
  ['an empty expiresIn', { ...base, expiresIn: '' }, /expiresIn must be/],
  ['a sub-second expiresIn', { ...base, expiresIn: '10ms' }, /expiresIn must be/],
  ['a maxSessionAge of the wrong type', { ...base, maxSessionAge: true }, /maxSessionAge must be a positive/],
  ['a maxSessionAge shorter than expiresIn', { ...base, expiresIn: '1h', maxSessionAge: '30m' }, /maxSessionAge must not be shorter than expiresIn/],
  ['a negative clockTolerance', { ...base, clockTolerance: -1 }, /clockTolerance must be a number of seconds from 0 to 300/],
  ['a huge clockTolerance', { ...base, clockTolerance: 3600 }, /clockTolerance must be/],
  ['a clockTolerance string', { ...base, clockTolerance: '5s' }, /clockTolerance must be/],
  ['a zero storeTimeout', { ...base, storeTimeout: 0 }, /storeTimeout must be a positive whole number of milliseconds/],
  ['a storeTimeout string', { ...base, storeTimeout: '2s' }, /storeTimeout must be/],
  ['an empty issuer', { ...base, issuer: '' }, /issuer must be a non-empty string/],
  ['an audience that is no string', { ...base, audience: ['a'] }, /audience must be a non-empty string/],
  ['a credentialsSchema that is not TypeBox', { ...base, credentialsSchema: { type: 'object' } }, /credentialsSchema must be a TypeBox schema/],
  ['a store of the old interface', { ...base, revocationStore: { revoke () {}, cutoff () {} } }, /revocationStore must have the methods session\(\), subject\(\), renew\(\), end\(\), endSubject\(\)/],
  ['a negative renewGrace', { ...base, renewGrace: -1 }, /renewGrace must be a whole number of seconds, 0 or more/],
  ['a renewGrace as a string', { ...base, renewGrace: '10s' }, /renewGrace must be a whole number of seconds/],
  ['an idleTimeout of nothing', { ...base, idleTimeout: 0 }, /idleTimeout must be a positive whole number of seconds or a duration/],
  ['an idleTimeout of true', { ...base, idleTimeout: true }, /idleTimeout must be/],
  ['an onReuse that is no function', { ...base, onReuse: 'log' }, /onReuse must be a function/],
  ['a store that is no object', { ...base, revocationStore: 'redis' }, /revocationStore must have/],
  ['routes that are neither false nor an object', { ...base, routes: true }, /routes must be false or an object/],
  ['an unknown route', { ...base, routes: { signup: '/signup' } }, /routes.signup is not a known route/],
  ['a route path without a leading slash', { ...base, routes: { login: 'login' } }, /routes.login must be a path starting with '\/' or false/],
  ['a route path of the wrong type', { ...base, routes: { renew: true } }, /routes.renew must be a path/],
  ['a prefix ending with a slash', { ...base, routes: { prefix: '/auth/' } }, /routes.prefix must be a path such as '\/auth'/],
  ['a prefix without a leading slash', { ...base, routes: { prefix: 'auth' } }, /routes.prefix must be/],
  ['a negative cacheSize', { ...base, cacheSize: -1 }, /cacheSize must be a whole number of tokens, 0 or more/],
  ['a cacheSize string', { ...base, cacheSize: '10k' }, /cacheSize must be/],
  ['a loginThrottle that is no object', { ...base, loginThrottle: true }, /loginThrottle must be false or an object/],
  ['an unknown loginThrottle option', { ...base, loginThrottle: { perUser: { max: 3 } } }, /loginThrottle.perUser is not a known loginThrottle option/],
  ['a loginThrottle limit that is no object', { ...base, loginThrottle: { perLogin: 10 } }, /loginThrottle.perLogin must be false or \{ max, window \}/],
  ['a loginThrottle limit with an unknown field', { ...base, loginThrottle: { perAddress: { max: 3, ttl: 5 } } }, /loginThrottle.perAddress must be false or \{ max, window \}/],
  ['a loginThrottle max of 0', { ...base, loginThrottle: { perLogin: { max: 0 } } }, /loginThrottle.perLogin.max must be a whole number of failed logins, 1 or more/],
  ['a loginThrottle limit without max', { ...base, loginThrottle: { perAddress: { window: '1h' } } }, /loginThrottle.perAddress.max must be/],
  ['an unparsable loginThrottle window', { ...base, loginThrottle: { perLogin: { max: 5, window: 'a while' } } }, /loginThrottle.perLogin.window must be a positive whole number of seconds/],
  ['a loginThrottle counter without release()', { ...base, loginThrottle: { counter: { take: () => 0 } } }, /loginThrottle.counter must have take\(\) and release\(\) methods/],
  ['a loginThrottle loginName that is no function', { ...base, loginThrottle: { loginName: 'email' } }, /loginThrottle.loginName must be a function/],
  ['a loginThrottle with the login route off', { ...base, routes: { login: false }, loginThrottle: { perLogin: { max: 3 } } }, /loginThrottle has no use: the login route is off/],
  ['a misspelt option', { ...base, expiresin: '1h' }, /expiresin is not a known option/],
  ['options that are no object', 'secret', /options must be an object/]
]

for (const [name, options, message] of refused) {
  test(`registration refuses ${name}`, async (t) => {
    const error = await register(t, options)
    t.type(error, OptionError)
    t.match((error as Error).message, message)
    t.match((error as Error).message, /^fastify-jwt-session: /)
  })
}

test('registration accepts every documented form of each option', async (t) => {
  const accepted: unknown[] = [
    base,
    { ...base, secret: Buffer.alloc(32, 7) },
    { ...base, secret: 'x'.repeat(48), algorithm: 'HS384' },
    { ...base, secret: 'x'.repeat(64), algorithm: 'HS512' },
    { ...base, expiresIn: 900, maxSessionAge: false, clockTolerance: 0, storeTimeout: 50, cacheSize: 0 },
    { ...base, expiresIn: '15m', maxSessionAge: '15m', issuer: 'https://issuer.example', audience: 'api' },
    { secret: SECRET, routes: false },
    { secret: SECRET, routes: { login: false } },
    { ...base, routes: { prefix: '/auth', renew: false, logout: '/bye' }, revocationStore: memoryStore() }
  ]
  for (const options of accepted) t.equal(await register(t, options), undefined, JSON.stringify(options))
})

test('registration leaves the caller\'s options untouched', async (t) => {
  const options = { ...base, routes: { prefix: '/auth' } }
  const copy = structuredClone({ ...options, verifyCredentials: undefined })
  t.equal(await register(t, options), undefined)
  t.same({ ...options, verifyCredentials: undefined }, copy)
  t.notOk(Object.isFrozen(options))
})

test('a memoryStore with a bad bound, a misspelt option or options that are not an object is refused when it is made', async (t) => {
  t.throws(() => memoryStore({ maxEntries: 0 }), /memoryStore maxEntries must be a positive whole number/)
  t.throws(() => memoryStore({ maxEntries: 1.5 }), /maxEntries/)
  t.throws(() => memoryStore({ maxEntires: 10 } as never), /memoryStore maxEntires is not a known memoryStore option/)
  t.throws(() => memoryStore(null as never), /memoryStore options must be an object/)
  t.throws(() => memoryStore({ maxEntires: 10 } as never), OptionError, 'the same error class the plugin\'s options throw')
})
