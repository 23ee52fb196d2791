import { test } from 'tap'
import { Writable } from 'node:stream'
import Fastify from 'fastify'
import jwtAuth, { memoryStore } from '../../lib/index'
import { SECRET, verifyCredentials } from '../helpers'

test('no token, password or secret appears in any log line, at any level, on success or failure', async (t) => {
  const lines: string[] = []
  const app = Fastify({ logger: { level: 'trace', stream: new Writable({ write (chunk, _encoding, callback) { lines.push(String(chunk)); callback() } }) } })
  t.teardown(() => app.close())
  await app.register(jwtAuth, {
    secret: SECRET,
    revocationStore: memoryStore(),
    verifyCredentials: async (credentials) => {
      if (credentials.login === 'crash') throw new Error('users database unreachable')
      return await verifyCredentials(credentials)
    }
  })
  app.get('/me', { onRequest: app.authenticate }, async (request) => request.user)
  const password = 'wonderland'
  const login = await app.inject({ method: 'POST', url: '/@login', payload: { login: 'alice', password } })
  const token = login.json().token as string
  const auth = { authorization: `Bearer ${token}` }
  await app.inject({ method: 'POST', url: '/@login', payload: { login: 'alice', password: 'a-wrong-password' } })
  await app.inject({ method: 'POST', url: '/@login', payload: { login: 'crash', password: 'crash-password' } })
  await app.inject({ url: '/me', headers: auth })
  await app.inject({ url: '/me', headers: { authorization: `Bearer ${token}tampered` } })
  const renewed = (await app.inject({ method: 'POST', url: '/@login-renew', headers: auth })).json().token as string
  await app.inject({ url: '/me', headers: auth })
  await app.inject({ method: 'POST', url: '/@logout', headers: { authorization: `Bearer ${renewed}` } })
  const log = lines.join('')
  t.ok(lines.length > 10, 'the requests were logged')
  t.match(log, /users database unreachable/, 'the verifier\'s error is logged')
  for (const [name, secret] of [['password', password], ['wrong password', 'a-wrong-password'], ['crash password', 'crash-password'], ['secret', SECRET], ['token', token], ['renewed token', renewed], ['signature', token.split('.')[2] as string]]) {
    t.notOk(log.includes(secret as string), `no ${name} in the log`)
  }
})
