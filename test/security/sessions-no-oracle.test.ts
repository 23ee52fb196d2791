import { test } from 'tap'
import { bearer, buildApp, decodePayload, login } from '../helpers'

// DELETE /@sessions/:id must not tell an attacker which session ids exist: another user's
// session, an id nobody holds and a malformed id all answer the same 404, byte for byte, and
// end nothing. (An id longer than Fastify's `maxParamLength`, 100, is its router's 414, whatever it names.)

test('ending another user\'s session, a made-up id or a malformed one: the same 404, nothing ended', async (t) => {
  const app = await buildApp(t)
  const alice = await login(app, 'alice')
  const bob = await login(app, 'bob')
  const bobSid = decodePayload(bob).sid as string

  const answers = []
  for (const id of [bobSid, 'AAAAAAAAAAAAAAAAAAAAAA', 'not a session id', 'x'.repeat(100)]) {
    const response = await app.inject({ method: 'DELETE', url: `/@sessions/${encodeURIComponent(id)}`, headers: bearer(alice) })
    answers.push({ status: response.statusCode, body: response.body, type: response.headers['content-type'] })
  }
  t.equal(answers[0]?.status, 404, 'another user\'s session: 404')
  for (const answer of answers) t.same(answer, answers[0], 'every other id answers the same bytes')

  // Bob's session goes on, and so does Alice's.
  t.equal((await app.inject({ url: '/me', headers: bearer(bob) })).statusCode, 200, 'bob is still signed in')
  t.equal((await app.inject({ url: '/me', headers: bearer(alice) })).statusCode, 200, 'alice is still signed in')
  // Bob still sees his session listed.
  const listed = (await app.inject({ url: '/@sessions', headers: bearer(bob) })).json().sessions as Array<{ id: string }>
  t.same(listed.map((session) => session.id), [bobSid])
})

test('jwtAuth.endSession of an id that is not that user\'s ends nothing', async (t) => {
  const app = await buildApp(t)
  const bob = await login(app, 'bob')
  const bobSid = decodePayload(bob).sid as string
  t.equal(await app.jwtAuth.endSession('u-alice', bobSid), false)
  t.equal((await app.inject({ url: '/me', headers: bearer(bob) })).statusCode, 200, 'bob is still signed in')
  t.equal(await app.jwtAuth.endSession('u-bob', bobSid), true)
  t.equal((await app.inject({ url: '/me', headers: bearer(bob) })).statusCode, 401, 'now it is ended')
})
