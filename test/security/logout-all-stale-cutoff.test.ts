import { test } from 'tap'
import type { FastifyInstance } from 'fastify'
import type { Redis } from 'ioredis'
import { redisStore, type RedisClient } from '../../lib/index'
import { bearer, buildApp, decodePayload, fakeClock, login } from '../helpers'
import { RedisServer, connected } from '../redis-server'

/*
 * A logout-all computes "past the cut-off before it" from its own read of the store, which may
 * be behind (a mirror a message away). The store itself records a cut-off past the one it
 * holds (the END_SUBJECT script, the memory store), so a login stamped past the held cut-off
 * cannot survive a later logout-all answered 204 on an instance that had not heard of it.
 *
 * Clocks are within the documented bound (one instance 1.5 s ahead); the process has one clock,
 * so each instance's reading is set before it answers, as logout-all-clock-skew.test.ts does.
 */

const logoutAll = async (app: FastifyInstance, token: string): Promise<number> =>
  (await app.inject({ method: 'POST', url: '/@logout', headers: bearer(token), payload: { all: true } })).statusCode
const me = async (app: FastifyInstance, token: string): Promise<number> => (await app.inject({ url: '/me', headers: bearer(token) })).statusCode

/**
 * A client whose subscription connection's messages are held while `held.on` (the mirror is "a
 * message away"), and whose log reads (the periodic check) wait until then, so that the test
 * does not depend on when the check runs.
 */
function holdingMessages (client: Redis): { client: RedisClient, held: { on: boolean }, release: () => void } {
  const held = { on: false }
  const queue: Array<() => void> = []
  const proxy = new Proxy(client, {
    get (target, property) {
      if (property === 'call') {
        return async (...args: unknown[]) => {
          if (held.on && args[0] === 'XRANGE') await new Promise<void>((resolve) => { queue.push(resolve) })
          return await (target.call as (...all: unknown[]) => Promise<unknown>)(...args)
        }
      }
      if (property === 'duplicate') {
        return () => {
          const connection = target.duplicate()
          const on = connection.on.bind(connection) as (event: string, listener: (...args: unknown[]) => void) => unknown
          ;(connection as unknown as { on: unknown }).on = (event: string, listener: (...args: unknown[]) => void) => {
            if (event !== 'message') return on(event, listener)
            return on(event, (...args: unknown[]) => { if (held.on) queue.push(() => listener(...args)); else listener(...args) })
          }
          return connection
        }
      }
      const value = Reflect.get(target, property, target)
      return typeof value === 'function' ? value.bind(target) : value
    }
  }) as unknown as RedisClient
  return { client: proxy, held, release: () => { held.on = false; for (const deliver of queue.splice(0)) deliver() } }
}

test('Redis: a login bumped past a logout-all cut-off survives a later revokeSubject answered by a mirror a message behind', async (t) => {
  const server = await RedisServer.start(t)
  const lookupClient = server.client()
  await connected(lookupClient)
  const lookup = redisStore({ client: lookupClient, mode: 'lookup' })
  t.teardown(async () => await lookup.close())
  const other = await buildApp(t, { revocationStore: lookup })
  const mirrorClient = server.client()
  await connected(mirrorClient)
  const holding = holdingMessages(mirrorClient)
  const mirrored = redisStore({ client: holding.client })
  t.teardown(async () => await mirrored.close())
  const app = await buildApp(t, { revocationStore: mirrored })
  await lookup.ready()
  await mirrored.ready()

  const clock = fakeClock(t)
  const real = Date.now()
  const first = await login(other)
  t.equal(await me(app, first), 200)

  holding.held.on = true
  // Logout-all #1, answered by the instance whose clock is 1.5 s ahead (within CLOCK_SKEW).
  clock.setSystemTime(real + 1_500)
  t.equal(await logoutAll(other, first), 204, 'logout-all #1')
  // A login after it (on an instance that has read the cut-off): stamped past that cut-off.
  clock.setSystemTime(real + 100)
  const bumped = await login(other)
  t.equal(await me(other, bumped), 200, 'the login after logout-all #1 works')
  // Logout-all #2 of the same user, asked after that login answered, on the mirror instance
  // (clock right), whose copy has not yet heard of #1 (its message still in flight).
  clock.setSystemTime(real + 200)
  await app.jwtAuth.revokeSubject('u-alice')
  holding.release()
  t.ok(decodePayload(bumped).auth_us > real * 1000 + 5_200_000, 'the login was stamped past the later cut-off this instance computed')
  t.equal(await me(other, bumped), 401, 'the session logged in before logout-all #2 is refused by it (lookup instance)')
  clock.setSystemTime(real + 3_000)
  t.equal(await me(other, bumped), 401, 'and still refused a few seconds on')
})
