import Fastify, { type preHandlerHookHandler } from 'fastify'
import { describe, expect, test } from 'tstyche'
import jwtAuth, {
  memoryStore, InsufficientAuthenticationError, SessionNotFoundError,
  type SessionEntry, type SessionEvictedEvent, type SessionFold, type SessionInfo, type SessionRegistry
} from 'fastify-jwt-session'

const app = Fastify()

describe('sessions a user can see and end', () => {
  test('maxSessionsPerUser, routes.sessions and onSessionEvicted are typed options', () => {
    expect(app.register(jwtAuth, { secret: 'x', maxSessionsPerUser: 10, routes: { sessions: '/devices' } })).type.not.toRaiseError()
    expect(app.register(jwtAuth, { secret: 'x', routes: { sessions: false } })).type.not.toRaiseError()
    expect(app.register(jwtAuth, { secret: 'x', maxSessionsPerUser: '10' })).type.toRaiseError()
    expect(app.register(jwtAuth, {
      secret: 'x',
      onSessionEvicted: (event) => { expect(event).type.toBe<SessionEvictedEvent>(); expect(event.reason).type.toBe<'max_sessions'>() },
      onLogout: (event) => { expect(event.others).type.toBe<boolean | undefined>() }
    })).type.not.toRaiseError()
  })

  test('jwtAuth.sessions() and endSession() answer promises', () => {
    expect(app.jwtAuth.sessions('u')).type.toBe<Promise<SessionInfo[]>>()
    expect(app.jwtAuth.endSession('u', 'sid')).type.toBe<Promise<boolean>>()
    expect(app.jwtAuth.endSession('u')).type.toRaiseError()
  })

  test('requireFresh takes seconds or a duration and answers a hook', () => {
    expect<preHandlerHookHandler>().type.toBeAssignableFrom(app.requireFresh('5m'))
    expect<preHandlerHookHandler>().type.toBeAssignableFrom(app.requireFresh(300))
    expect(app.requireFresh()).type.toRaiseError()
    expect(app.requireFresh(true)).type.toRaiseError()
  })

  test('the memory store\'s registry answers at once; a store\'s registry may answer with promises', () => {
    const { registry } = memoryStore()
    expect(registry.list('u')).type.toBe<readonly SessionEntry[]>()
    expect(registry.ended('u', 's', 1, 2, 3)).type.toBe<SessionFold | undefined>()
    expect(registry.held('u')).type.toBe<number>()
    expect<SessionRegistry>().type.toBeAssignableFrom(registry)
  })

  test('the new errors are constructors', () => {
    expect(new InsufficientAuthenticationError().statusCode).type.toBe<number | undefined>()
    expect(new SessionNotFoundError().code).type.toBe<string>()
  })
})
