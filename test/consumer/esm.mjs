// A consumer in ESM, run from a project that installed the packed tarball.
import Fastify from 'fastify'
import jwtAuth, { jwtAuth as named, memoryStore, InvalidTokenError } from 'fastify-jwt-session'

const app = Fastify()
await app.register(jwtAuth, {
  secret: 'a-consumer-secret-of-at-least-32-bytes',
  verifyCredentials: async ({ login }) => login === 'ann' ? { sub: 'ann' } : null,
  revocationStore: memoryStore()
})
app.get('/me', { onRequest: app.authenticate }, async (request) => request.user.sub)
const login = await app.inject({ method: 'POST', url: '/@login', payload: { login: 'ann', password: 'pw' } })
const me = await app.inject({ url: '/me', headers: { authorization: `Bearer ${login.json().token}` } })
console.log(JSON.stringify({ same: jwtAuth === named, code: new InvalidTokenError().code, me: me.body }))
await app.close()
