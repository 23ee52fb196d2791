import { test } from 'tap'
import type { FastifyInstance } from 'fastify'
import { memoryAttempts } from '../../lib/stores/memory/attempts'
import { loginKey } from '../../lib/throttle/login-throttle'
import { buildApp, fakeClock, verifyCredentials } from '../helpers'

/*
 * Finding 7: the per-name counter could be reset: after 10 failures on one name, 100,000
 * other names (from many IPv6 /64s, each under its address limit) evicted its window, and the
 * next guess reached the verifier.
 */

const WINDOW = 15 * 60_000

test('the default counter keeps a live window of a guessed name through 100,000 other names', async (t) => {
  const clock = fakeClock(t)
  const counter = memoryAttempts()
  const target = loginKey('alice')
  for (let i = 0; i < 10; i++) t.equal(await counter.take(target, 10, WINDOW), 0)
  t.ok(await counter.take(target, 10, WINDOW) > 0, 'the 11th guess is refused')
  let refusedNewNames = 0
  for (let i = 0; i < 100_001; i++) {
    if (await counter.take(loginKey(`flood-${i}`), 10, WINDOW) > 0) refusedNewNames++
  }
  t.ok(refusedNewNames > 0, 'when full, new names are refused rather than old ones forgotten')
  t.ok(await counter.take(target, 10, WINDOW) > 0, 'the guessed name is still held back')
  clock.tick(WINDOW)
  t.equal(await counter.take(loginKey('flood-new'), 10, WINDOW), 0, 'once the windows end, names are counted again')
  t.equal(await counter.take(target, 10, WINDOW), 0, 'and the guessed name has a new window')
})

/** A failed login for `login` from its own IPv6 /64, as a flood from many networks sends it. */
async function fail (app: FastifyInstance, login: string, network: number): Promise<number> {
  const response = await app.inject({ method: 'POST', url: '/@login', payload: { login, password: 'wrong' }, remoteAddress: `2001:db8:${network.toString(16)}::1` })
  return response.statusCode
}

test('through the login route: a full counter answers 429 to new names, never reaches the verifier for the guessed one, and frees slots as windows end', async (t) => {
  const clock = fakeClock(t)
  let calls = 0
  const app = await buildApp(t, {
    verifyCredentials: async (credentials) => { calls++; return await verifyCredentials(credentials) },
    loginThrottle: { counter: memoryAttempts(40) }
  })
  for (let i = 0; i < 10; i++) t.equal(await fail(app, 'alice', 0), 401)
  t.equal(await fail(app, 'alice', 0), 429)
  // Each failure from a fresh network takes two slots: the name's and the network's.
  const answers: number[] = []
  for (let i = 1; i <= 30; i++) answers.push(await fail(app, `flood-${i}`, i))
  t.ok(answers.includes(429), 'new names are refused once the counter is full')
  const before = calls
  const refused = await app.inject({ method: 'POST', url: '/@login', payload: { login: 'alice', password: 'wonderland' }, remoteAddress: '2001:db8:ffff::1' })
  t.equal(refused.statusCode, 429, 'the guessed name is still held back')
  t.equal(calls, before, 'the verifier was not asked')
  clock.tick(WINDOW + 1000)
  t.equal((await app.inject({ method: 'POST', url: '/@login', payload: { login: 'bob', password: 'builder' }, remoteAddress: '2001:db8:fffe::1' })).statusCode, 200, 'slots free once windows end')
})

test('a successful login frees its slot, so a full counter does not keep refusing real users', async (t) => {
  fakeClock(t)
  const counter = memoryAttempts(2)
  t.equal(await counter.take('a', 10, WINDOW), 0)
  t.equal(await counter.take('b', 10, WINDOW), 0)
  t.ok(await counter.take('c', 10, WINDOW) > 0, 'full')
  await counter.release('b')
  await counter.release('gone')
  t.equal(await counter.take('c', 10, WINDOW), 0, 'the released window made room')
})
