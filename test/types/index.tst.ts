import Fastify, { type FastifyInstance, type onRequestHookHandler, type preHandlerHookHandler } from 'fastify'
import { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import { Type } from '@sinclair/typebox'
import { describe, expect, test } from 'tstyche'
import { generateKeyPairSync } from 'node:crypto'
import { Redis } from 'ioredis'
import jwtAuth, {
  jwtAuth as named, memoryStore, redisStore, InvalidTokenError, KeysUnavailableError, OptionError,
  type AttemptCounter, type Credentials, type JwtKey, type JwtSessionOptions, type LoginFailedEvent, type RedisSessionRegistry, type RedisStore, type RevocationHistory, type SessionEntry, type SessionFold, type RevocationStore, type ReuseEvent, type SessionClaims, type SessionRecord, type SessionUser
} from 'fastify-jwt-session'

declare module 'fastify-jwt-session' {
  interface SessionExtraClaims {
    fullname: string
  }
}

const app = Fastify()

describe('throttle, cookies and audit hooks', () => {
  test('the throttle, cookie mode and the audit hooks are typed options', () => {
    expect(app.register(jwtAuth, { secret: 'x', loginThrottle: { perLogin: { max: 5, window: '10m' }, perAddress: false } })).type.not.toRaiseError()
    expect(app.register(jwtAuth, { secret: 'x', loginThrottle: { perLogin: { window: '10m' } } })).type.toRaiseError()
    expect(app.register(jwtAuth, { secret: 'x', cookie: { name: 'session', csrfHeader: 'x-xsrf-token' } })).type.not.toRaiseError()
    expect(app.register(jwtAuth, { secret: 'x', cookie: { sameSite: 'lax' } })).type.toRaiseError()
    expect(app.register(jwtAuth, {
      secret: 'x',
      onLogin: async (event, request) => { expect(event.sub).type.toBe<string>(); expect(request.ip).type.toBe<string>() },
      onLoginFailed: (event) => { expect(event).type.toBe<LoginFailedEvent>(); expect(event.reason).type.toBe<'invalid_credentials' | 'throttled'>() },
      onRenew: (event) => { expect(event.previousJti).type.toBe<string>() },
      onLogout: (event) => { expect(event.all).type.toBe<boolean>() }
    })).type.not.toRaiseError()
  })

  test('a counter of your own is an AttemptCounter; the Redis store offers one', () => {
    const counter: AttemptCounter = { take: async () => 0, release: () => {} }
    expect(app.register(jwtAuth, { secret: 'x', loginThrottle: { counter } })).type.not.toRaiseError()
    expect(redisStore({ client: new Redis() }).attempts).type.toBe<AttemptCounter>()
    expect(redisStore({ client: 'redis://localhost' })).type.toRaiseError()
  })
})

describe('registration', () => {
  test('the default and the named export are the same plugin, registered with its options', () => {
    expect(named).type.toBe(jwtAuth)
    expect(app.register(jwtAuth, { secret: 'x', verifyCredentials: async () => null })).type.not.toRaiseError()
    expect(app.register(jwtAuth, { secret: 'x', revocationStore: memoryStore(), routes: false })).type.not.toRaiseError()
  })

  test('an unknown or mistyped option is a type error', () => {
    expect(app.register(jwtAuth, { secret: 'x', expiresin: '1h' })).type.toRaiseError()
    expect(app.register(jwtAuth, { secret: 'x', algorithm: 'RS256' })).type.toRaiseError()
    expect(app.register(jwtAuth, { secret: 'x', routes: { login: true } })).type.toRaiseError()
    expect(app.register(jwtAuth, { secret: 42 })).type.toRaiseError()
  })

  test('verifyCredentials answers a SessionUser or null', () => {
    expect<JwtSessionOptions['verifyCredentials']>().type.toBeAssignableFrom(async () => ({ sub: 'u', roles: ['a'] }))
    expect<JwtSessionOptions['verifyCredentials']>().type.not.toBeAssignableFrom(async () => ({ id: 'u' }))
    expect<SessionUser>().type.not.toBeAssignableFrom({ sub: 1 })
  })
})

describe('decorators', () => {
  test('request.user is typed with the claims, extended by the host', () => {
    app.get('/me', { onRequest: app.authenticate }, async (request) => {
      expect(request.user).type.toBe<SessionClaims>()
      expect(request.user.fullname).type.toBe<string>()
      expect(request.user.roles).type.toBe<readonly string[]>()
      expect(request.authenticate()).type.toBe<Promise<SessionClaims>>()
      return request.user.sub
    })
  })

  test('the hooks fit onRequest and preHandler, alone and in arrays', () => {
    expect<onRequestHookHandler>().type.toBeAssignableFrom(app.authenticate)
    expect<preHandlerHookHandler>().type.toBeAssignableFrom(app.authenticate)
    expect<onRequestHookHandler[]>().type.toBeAssignableFrom([app.authenticate, app.requireRoles('admin')])
    expect(app.requireRoles()).type.toRaiseError()
  })

  test('the hooks fit routes that use the TypeBox type provider', () => {
    const typed = app.withTypeProvider<TypeBoxTypeProvider>()
    typed.post('/orders', {
      schema: { body: Type.Object({ item: Type.String() }) },
      onRequest: [typed.authenticate, typed.requireRoles('user')],
      preHandler: typed.authenticate
    }, async (request) => {
      expect(request.body.item).type.toBe<string>()
      return request.user.sub
    })
  })

  test('fastify.jwtAuth signs synchronously and verifies asynchronously', () => {
    expect(app.jwtAuth.sign({ sub: 'u' })).type.toBe<string>()
    expect(app.jwtAuth.verify('t')).type.toBe<Promise<SessionClaims>>()
    expect(app.jwtAuth.revokeSubject('u')).type.toBe<Promise<void>>()
  })
})

describe('the login schema, optional authentication, @fastify/jwt and Plone', () => {
  test('verifyCredentials receives Static<typeof credentialsSchema>, and { login, password } without one', () => {
    expect(app.register(jwtAuth, {
      secret: 'x',
      credentialsSchema: Type.Object({ email: Type.String(), remember: Type.Optional(Type.Boolean()) }),
      verifyCredentials: async (credentials) => {
        expect(credentials).type.toBe<{ email: string, remember?: boolean }>()
        return null
      }
    })).type.not.toRaiseError()
    expect(app.register(jwtAuth, {
      secret: 'x',
      verifyCredentials: async (credentials) => { expect(credentials).type.toBe<Credentials>(); return null }
    })).type.not.toRaiseError()
    expect(app.register(jwtAuth, {
      secret: 'x',
      credentialsSchema: Type.Object({ email: Type.String() }),
      verifyCredentials: async (credentials: { login: string }) => ({ sub: credentials.login })
    })).type.toRaiseError()
    expect(app.register(jwtAuth, { secret: 'x', credentialsSchema: { type: 'object' } })).type.toRaiseError()
    expect(app.register(jwtAuth, { secret: 'x', verifyCredentials: async (credentials: { email: string }) => ({ sub: credentials.email }) })).type.toRaiseError()
  })

  test('authenticateOptional is a hook like authenticate', () => {
    expect<onRequestHookHandler>().type.toBeAssignableFrom(app.authenticateOptional)
    expect<preHandlerHookHandler[]>().type.toBeAssignableFrom([app.authenticateOptional])
  })

  test('fastify.jwt and request.jwtVerify() are @fastify/jwt\'s; request.user is the claims through FastifyJWT', () => {
    expect(app.jwt.sign({ sub: 'u' })).type.toBe<string>()
    app.get('/legacy', async (request) => {
      expect(request.jwtVerify<{ sub: string }>()).type.toBe<Promise<{ sub: string }>>()
      expect(request.user).type.toBe<SessionClaims>()
      return null
    })
  })

  test('compat takes \'plone\' only', () => {
    expect(app.register(jwtAuth, { secret: 'x', compat: 'plone' })).type.not.toRaiseError()
    expect(app.register(jwtAuth, { secret: 'x', compat: 'zope' })).type.toRaiseError()
  })
})

describe('keys and verify-only modes', () => {
  test('keys take PEM strings or KeyObjects; jwks takes a url', () => {
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' })
    expect(app.register(jwtAuth, { keys: [{ kid: 'a', algorithm: 'ES256', privateKey, publicKey }], verifyCredentials: async () => null })).type.not.toRaiseError()
    expect(app.register(jwtAuth, { keys: [{ kid: 'a', algorithm: 'EdDSA', publicKey: '-----BEGIN PUBLIC KEY-----' }] })).type.not.toRaiseError()
    expect(app.register(jwtAuth, { jwks: { url: 'https://id.example/.well-known/jwks.json', maxAge: '5m' }, audience: 'orders' })).type.not.toRaiseError()
    expect(app.register(jwtAuth, { jwks: { url: 'https://id.example/.well-known/jwks.json' }, audience: false })).type.not.toRaiseError()
    expect(app.register(jwtAuth, { jwks: { url: 'https://id.example/.well-known/jwks.json' }, audience: true })).type.toRaiseError()
    expect<JwtKey>().type.not.toBeAssignableFrom({ kid: 'a', algorithm: 'HS256', publicKey: 'pem' })
    expect<JwtKey>().type.not.toBeAssignableFrom({ algorithm: 'ES256', publicKey: 'pem' })
    expect(app.register(jwtAuth, { jwks: { href: 'https://id.example' } })).type.toRaiseError()
  })
})

describe('stores and errors', () => {
  test('redisStore takes an ioredis client and answers a store with ready() and close()', () => {
    const store = redisStore({ client: new Redis({ lazyConnect: true }), mode: 'lookup' })
    expect(store).type.toBe<RedisStore>()
    expect(store.ready()).type.toBe<Promise<void>>()
    expect(store.history).type.toBe<RevocationHistory>()
    expect(store.registry).type.toBe<RedisSessionRegistry>()
    expect(store.registry.list('u-alice')).type.toBe<Promise<readonly SessionEntry[]>>()
    expect(store.registry.ended('u-alice', 'sid', 1, 2, 50)).type.toBe<Promise<SessionFold | undefined>>()
    expect(redisStore({ client: {} })).type.toRaiseError()
    expect(redisStore({ client: new Redis({ lazyConnect: true }), mode: 'cache' })).type.toRaiseError()
  })

  test('a store is five methods, synchronous or not', () => {
    const record = { generation: 1, renewedAt: 1, ended: false }
    expect<RevocationStore>().type.toBeAssignableFrom({ session: () => undefined, subject: () => null, renew: () => record, end: () => {}, endSubject: () => {} })
    expect<RevocationStore>().type.toBeAssignableFrom({ session: async () => record, subject: async () => 12, renew: async () => record, end: async () => {}, endSubject: async () => {} })
    expect<RevocationStore>().type.not.toBeAssignableFrom({ revoke: () => true, cutoff: () => undefined })
    expect<RevocationStore>().type.not.toBeAssignableFrom({ session: () => undefined, subject: () => null, renew: () => true, end: () => {}, endSubject: () => {} })
    expect(memoryStore({ maxEntries: 10 }).size).type.toBe<number>()
    expect(memoryStore().session('sid')).type.toBe<SessionRecord | undefined>()
  })

  test('session options and the onReuse hook', () => {
    expect(app.register(jwtAuth, { secret: 's', renewGrace: 0, idleTimeout: '8h', onReuse: (event) => { expect(event).type.toBe<ReuseEvent>() } })).type.not.toRaiseError()
    expect(app.register(jwtAuth, { secret: 's', idleTimeout: false })).type.not.toRaiseError()
    expect(app.register(jwtAuth, { secret: 's', renewGrace: '10s' })).type.toRaiseError()
    expect<SessionClaims['gen']>().type.toBe<number>()
    expect<SessionClaims['auth_us']>().type.toBe<number>()
  })

  test('errors are constructors callers can narrow on', () => {
    const error: unknown = new InvalidTokenError()
    if (error instanceof InvalidTokenError) expect(error.code).type.toBe<string>()
    expect(new OptionError('x')).type.toBeAssignableTo<TypeError>()
    expect(new KeysUnavailableError().statusCode).type.toBe<number | undefined>()
  })
})

export function plugin (instance: FastifyInstance): void {
  instance.get('/admin', { onRequest: instance.requireRoles('admin') }, async (request) => request.user.sub)
}
