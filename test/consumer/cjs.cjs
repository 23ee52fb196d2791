// A consumer in CommonJS, run from a project that installed the packed tarball.
const Fastify = require('fastify')
const plugin = require('fastify-jwt-session')
const { jwtAuth, memoryStore } = require('fastify-jwt-session')

async function main () {
  const app = Fastify()
  await app.register(plugin, {
    secret: 'a-consumer-secret-of-at-least-32-bytes',
    verifyCredentials: async ({ login }) => login === 'ann' ? { sub: 'ann' } : null,
    revocationStore: memoryStore()
  })
  app.get('/me', { onRequest: app.authenticate }, async (request) => request.user.sub)
  const login = await app.inject({ method: 'POST', url: '/@login', payload: { login: 'ann', password: 'pw' } })
  const me = await app.inject({ url: '/me', headers: { authorization: `Bearer ${login.json().token}` } })
  console.log(JSON.stringify({ plugin: typeof plugin, default: plugin.default === plugin, named: jwtAuth === plugin, me: me.body }))
  await app.close()
}
main()
