import { test } from 'tap'
import { bearer, buildApp, forge, validClaims } from '../helpers'

/*
 * A Security Event Token of the revocation feed is signed with the same key as the access
 * tokens (RFC 8417 §4): one that also carries the claims of a session must still never be
 * taken for an access token, whatever its header says.
 */

const EVENTS = { 'https://schemas.openid.net/secevent/caep/event-type/session-revoked': { event_timestamp: 1 } }

test('a token with an events claim is refused as an access token, whatever its typ', async (t) => {
  const app = await buildApp(t, {})
  for (const header of [{ alg: 'HS256' }, { alg: 'HS256', typ: 'JWT' }]) {
    const token = forge(header, validClaims({ events: EVENTS }))
    const response = await app.inject({ url: '/me', headers: bearer(token) })
    t.equal(response.statusCode, 401, `typ ${String((header as { typ?: string }).typ)}`)
    t.equal(response.json().code, 'FST_JWT_SESSION_INVALID_TOKEN')
    t.rejects(app.jwtAuth.verify(token), { code: 'FST_JWT_SESSION_INVALID_TOKEN' }, 'jwtAuth.verify too')
  }
  const plain = forge({ alg: 'HS256' }, validClaims())
  t.equal((await app.inject({ url: '/me', headers: bearer(plain) })).statusCode, 200, 'the same token without events passes')
})

test('a SET with typ secevent+jwt is refused as an access token', async (t) => {
  const app = await buildApp(t, {})
  const set = forge({ alg: 'HS256', typ: 'secevent+jwt' }, validClaims({ events: EVENTS }))
  t.equal((await app.inject({ url: '/me', headers: bearer(set) })).statusCode, 401)
})
