import { test } from 'tap'
import { execFile } from 'node:child_process'
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { promisify } from 'node:util'

const run = promisify(execFile)

/** Runs `source` in a fresh Node process at the package root, as a consumer of the built package. */
async function node (source: string, type: 'commonjs' | 'module'): Promise<string> {
  const { stdout } = await run(process.execPath, [`--input-type=${type}`, '-e', source], { cwd: join(__dirname, '..') })
  return stdout.trim()
}

const CONSUMER = `
  const app = Fastify()
  await app.register(plugin, {
    secret: 'a-consumer-secret-of-at-least-32-bytes',
    verifyCredentials: async ({ login }) => login === 'ann' ? { sub: 'ann' } : null,
    revocationStore: memoryStore()
  })
  app.get('/me', { onRequest: app.authenticate }, async (request) => request.user.sub)
  const login = await app.inject({ method: 'POST', url: '/@login', payload: { login: 'ann', password: 'pw' } })
  const me = await app.inject({ url: '/me', headers: { authorization: 'Bearer ' + login.json().token } })
  console.log(me.body)
  await app.close()
`

test('the built package is there (npm test builds it first)', async (t) => {
  t.ok(existsSync(join(__dirname, '..', 'dist', 'index.js')), 'dist/index.js exists: run npm run build')
})

test('CommonJS: require() is the plugin, with .default, .jwtAuth, .memoryStore and the errors', async (t) => {
  const out = await node(`
    const plugin = require('fastify-jwt-session')
    console.log(JSON.stringify({
      fn: typeof plugin, default: plugin.default === plugin, named: plugin.jwtAuth === plugin,
      store: typeof plugin.memoryStore, error: new plugin.InvalidTokenError().code, option: typeof plugin.OptionError
    }))
  `, 'commonjs')
  t.same(JSON.parse(out), { fn: 'function', default: true, named: true, store: 'function', error: 'FST_JWT_SESSION_INVALID_TOKEN', option: 'function' })
  const served = await node(`(async () => { const Fastify = require('fastify'); const plugin = require('fastify-jwt-session'); const { memoryStore } = plugin; ${CONSUMER} })()`, 'commonjs')
  t.equal(served, 'ann')
})

test('ESM: the default import and the named imports', async (t) => {
  const out = await node(`
    import jwtAuth, { jwtAuth as named, memoryStore, redisStore, InvalidTokenError, StoreUnavailableError, KeysUnavailableError } from 'fastify-jwt-session'
    console.log(JSON.stringify({ same: jwtAuth === named, stores: [typeof memoryStore, typeof redisStore], codes: [new InvalidTokenError().code, new StoreUnavailableError().statusCode, new KeysUnavailableError().code] }))
  `, 'module')
  t.same(JSON.parse(out), { same: true, stores: ['function', 'function'], codes: ['FST_JWT_SESSION_INVALID_TOKEN', 503, 'FST_JWT_SESSION_KEYS_UNAVAILABLE'] })
  const served = await node(`import Fastify from 'fastify'; import plugin, { memoryStore } from 'fastify-jwt-session'; ${CONSUMER}`, 'module')
  t.equal(served, 'ann')
})
