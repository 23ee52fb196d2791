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

/** Runs one of the consumer programs (also run against the packed tarball) on the built package. */
async function consumer (file: string): Promise<unknown> {
  const { stdout } = await run(process.execPath, [join(__dirname, 'consumer', file)], { cwd: join(__dirname, '..') })
  return JSON.parse(stdout)
}

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
  t.same(await consumer('cjs.cjs'), { plugin: 'function', default: true, named: true, me: 'ann' })
})

test('ESM: the default import and the named imports', async (t) => {
  const out = await node(`
    import jwtAuth, { jwtAuth as named, memoryStore, redisStore, InvalidTokenError, StoreUnavailableError, KeysUnavailableError } from 'fastify-jwt-session'
    console.log(JSON.stringify({ same: jwtAuth === named, stores: [typeof memoryStore, typeof redisStore], codes: [new InvalidTokenError().code, new StoreUnavailableError().statusCode, new KeysUnavailableError().code] }))
  `, 'module')
  t.same(JSON.parse(out), { same: true, stores: ['function', 'function'], codes: ['FST_JWT_SESSION_INVALID_TOKEN', 503, 'FST_JWT_SESSION_KEYS_UNAVAILABLE'] })
  t.same(await consumer('esm.mjs'), { same: true, code: 'FST_JWT_SESSION_INVALID_TOKEN', me: 'ann' })
})
