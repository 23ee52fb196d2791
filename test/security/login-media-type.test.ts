import { test } from 'tap'
import { buildApp } from '../helpers'

/* Point 8: a login sent as text/plain answered 400, where the README promises 415 for a body that is not JSON. */

test('a login body that is not JSON answers 415, whatever parser the host has', async (t) => {
  let calls = 0
  const app = await buildApp(t, { verifyCredentials: async () => { calls++; return null } }, (server) => {
    server.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string' }, (_request, body, done) => { done(null, Object.fromEntries(new URLSearchParams(body as string))) })
  })
  const body = JSON.stringify({ login: 'alice', password: 'wonderland' })
  for (const type of ['text/plain', 'text/plain; charset=utf-8', 'application/x-www-form-urlencoded', 'application/jsonp', 'text/json']) {
    const response = await app.inject({ method: 'POST', url: '/@login', payload: type.startsWith('application/x-www') ? 'login=alice&password=wonderland' : body, headers: { 'content-type': type } })
    t.equal(response.statusCode, 415, type)
    t.equal(response.json().code, 'FST_ERR_CTP_INVALID_MEDIA_TYPE', type)
  }
  t.equal(calls, 0, 'the verifier was never asked')
  for (const type of ['application/json', 'Application/JSON; charset=utf-8']) {
    t.equal((await app.inject({ method: 'POST', url: '/@login', payload: body, headers: { 'content-type': type } })).statusCode, 401, `${type} reaches the verifier`)
  }
  t.equal(calls, 2)
})
