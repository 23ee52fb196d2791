import { test } from 'tap'
import Fastify from 'fastify'
import { Writable } from 'node:stream'
import jwtAuth from '../lib/index'
import { SECRET, verifyCredentials } from './helpers'

/** A Fastify app whose log lines are collected. */
function appWithLog (): { app: ReturnType<typeof Fastify>, lines: Array<Record<string, unknown>> } {
  const lines: Array<Record<string, unknown>> = []
  const stream = new Writable({ write (chunk, _encoding, done) { lines.push(JSON.parse(String(chunk))); done() } })
  return { app: Fastify({ logger: { level: 'warn', stream } }), lines }
}

test('routes declared before the plugin loaded (a registration not awaited) are named in a warning at load', async (t) => {
  const { app, lines } = appWithLog()
  t.after(() => app.close())
  app.register(jwtAuth, { secret: SECRET, verifyCredentials })
  // app.authenticate is still undefined here, and Fastify ignores an undefined hook.
  app.get('/orders', { onRequest: app.authenticate }, async () => 'public')
  await app.ready()
  const warning = lines.find((line) => String(line.msg).includes('routes were declared before this plugin loaded'))
  t.ok(warning, 'a warning at load')
  t.match(warning?.routes, /\/orders/, 'it names the route')
  t.equal((await app.inject({ url: '/orders' })).body, 'public', 'the route itself is what the warning is about')
})

test('the hook in an array makes Fastify refuse the route at once when the registration was not awaited', async (t) => {
  const app = Fastify()
  t.after(() => app.close())
  app.register(jwtAuth, { secret: SECRET, verifyCredentials })
  t.throws(() => app.get('/orders', { onRequest: [app.authenticate] }, async () => 'never'), { code: 'FST_ERR_HOOK_INVALID_HANDLER' })
})

test('an awaited registration warns of nothing', async (t) => {
  const { app, lines } = appWithLog()
  t.after(() => app.close())
  await app.register(jwtAuth, { secret: SECRET, verifyCredentials })
  app.get('/orders', { onRequest: [app.authenticate] }, async () => 'private')
  await app.ready()
  t.same(lines, [])
  t.equal((await app.inject({ url: '/orders' })).statusCode, 401)
})
