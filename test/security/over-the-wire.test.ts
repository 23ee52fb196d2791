import { test } from 'tap'
import { connect } from 'node:net'
import type { AddressInfo } from 'node:net'
import type { FastifyInstance } from 'fastify'
import { buildApp, encode, forge, login, validClaims } from '../helpers'

/** Sends `request` as raw bytes to the listening app and answers the status line and head. */
async function raw (app: FastifyInstance, request: string): Promise<{ status: number, head: string }> {
  const { port } = app.server.address() as AddressInfo
  return await new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => socket.end(request))
    let received = ''
    socket.setEncoding('latin1')
    socket.on('data', (chunk: string) => { received += chunk })
    socket.on('error', reject)
    socket.on('close', () => {
      const head = received.split('\r\n\r\n')[0] ?? ''
      resolve({ status: Number(head.split(' ')[1]), head })
    })
  })
}

/** A GET of /me with the given Authorization header lines, on a connection that then closes. */
function getMe (...authorization: string[]): string {
  return ['GET /me HTTP/1.1', 'Host: localhost', 'Connection: close', ...authorization.map((value) => `Authorization: ${value}`), '', ''].join('\r\n')
}

test('over a real socket: hostile requests get their documented answers, never a 500', async (t) => {
  const app = await buildApp(t)
  await app.listen({ port: 0, host: '127.0.0.1' })
  const token = await login(app)
  const none = `${encode({ alg: 'none', typ: 'JWT' })}.${encode(validClaims())}.`

  const cases: Array<[string, string, number, RegExp?]> = [
    ['a valid token', getMe(`Bearer ${token}`), 200],
    ['alg none', getMe(`Bearer ${none}`), 401, /error="invalid_token"/],
    ['a stripped signature', getMe(`Bearer ${token.slice(0, token.lastIndexOf('.') + 1)}`), 401, /error="invalid_token"/],
    ['HS512 under the HS256 key', getMe(`Bearer ${forge({ alg: 'HS512', typ: 'JWT' }, validClaims(), undefined, 'sha512')}`), 401, /error="invalid_token"/],
    ['a Bearer header with no token', getMe('Bearer'), 400, /error="invalid_request"/],
    ['another scheme', getMe('Basic YWxpY2U6d29uZGVybGFuZA=='), 401, /^www-authenticate: Bearer\r?$/mi],
    ['a bad token, then a good one, in two headers (the first counts)', getMe('Bearer x.y.z', `Bearer ${token}`), 401],
    ['a 10 KB token', getMe(`Bearer ${'a'.repeat(10_240)}.b.c`), 401, /error="invalid_token"/],
    ['a header past the server limit', getMe(`Bearer ${'a'.repeat(20_000)}`), 431],
    ['a NUL in the header', getMe(`Bearer ${token}\u0000`), 400]
  ]
  for (const [name, request, status, head] of cases) {
    const answer = await raw(app, request)
    t.equal(answer.status, status, name)
    if (head !== undefined) t.match(answer.head, head, name)
  }
})

test('over a real socket: the eleventh failed login for one name gets 429 with Retry-After', async (t) => {
  const app = await buildApp(t)
  await app.listen({ port: 0, host: '127.0.0.1' })
  const { port } = app.server.address() as AddressInfo
  const attempt = async (password: string): Promise<Response> => await fetch(`http://127.0.0.1:${port}/@login`, {
    method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ login: 'alice', password })
  })
  for (let i = 0; i < 10; i++) t.equal((await attempt(`guess-${i}`)).status, 401)
  const refused = await attempt('wonderland')
  t.equal(refused.status, 429)
  t.equal(refused.headers.get('retry-after'), '900')
  t.equal(((await refused.json()) as { code: string }).code, 'FST_JWT_SESSION_TOO_MANY_ATTEMPTS')
})
