import { test } from 'tap'
import Fastify, { type FastifyInstance } from 'fastify'
import type { AddressInfo } from 'node:net'
import jwtAuth, { memoryStore } from '../lib/index'
import { SECRET, verifyCredentials } from './helpers'

/**
 * A backend as Volto and @plone/client see Plone: the plugin's routes under `/++api++`, a
 * public page that shows more to signed-in users, and a page for signed-in users only.
 * Listening on a port, as the clients talk HTTP.
 */
async function ploneBackend (t: { after (fn: () => unknown): void }, store = true): Promise<{ app: FastifyInstance, apiPath: string }> {
  const app = Fastify()
  t.after(() => app.close())
  await app.register(jwtAuth, {
    secret: SECRET,
    compat: 'plone',
    verifyCredentials,
    routes: { prefix: '/++api++' },
    ...(store ? { revocationStore: memoryStore() } : {})
  })
  app.get('/++api++/front-page', { onRequest: [app.authenticateOptional] }, async (request) => ({
    '@id': '/front-page', title: 'Welcome', can_edit: request.user !== null
  }))
  app.get('/++api++/private', { onRequest: [app.authenticate] }, async () => ({ '@id': '/private' }))
  await app.listen({ port: 0, host: '127.0.0.1' })
  return { app, apiPath: `http://127.0.0.1:${(app.server.address() as AddressInfo).port}` }
}

/**
 * @plone/client from its ESM build: its CommonJS build requires query-string, which is ESM only.
 */
async function clientFor (apiPath: string): Promise<PloneClientCalls> {
  const { default: PloneClient } = await import('@plone/client')
  return PloneClient.initialize({ apiPath })
}

/** The calls of @plone/client this test makes (its ESM and CommonJS typings differ otherwise). */
interface PloneClientCalls {
  login (args: { username: string, password: string }): Promise<string>
  getContent (args: { path: string }): Promise<unknown>
  getConfig (): { token?: string }
}

/** A call as Volto's Api helper makes it: JSON, with the token as a Bearer credential. */
async function volto (apiPath: string, method: string, path: string, token?: string, body?: unknown): Promise<{ status: number, body: any }> {
  const response = await fetch(`${apiPath}/++api++${path}`, {
    method,
    headers: { accept: 'application/json', ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...(token === undefined ? {} : { authorization: `Bearer ${token}` }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) })
  })
  const text = await response.text()
  return { status: response.status, body: text === '' ? undefined : JSON.parse(text) }
}

/** The status and body of a request @plone/client was refused. */
async function refused (call: Promise<unknown>): Promise<{ status: number, body: unknown }> {
  try {
    await call
  } catch (error) {
    const response = (error as { response: { status: number, data: unknown } }).response
    return { status: response.status, body: response.data }
  }
  throw new Error('the request succeeded')
}

test('@plone/client logs in at <apiPath>/++api++/@login and reads pages with its token', async (t) => {
  const { apiPath } = await ploneBackend(t)
  const client = await clientFor(apiPath)
  const token = await client.login({ username: 'alice', password: 'wonderland' })
  t.type(token, 'string')
  const payload = JSON.parse(Buffer.from(token.split('.')[1] as string, 'base64url').toString())
  t.equal(payload.sub, 'u-alice', 'Volto reads sub from the token')
  t.type(payload.exp, 'number', 'and exp')
  t.match(await client.getContent({ path: '/front-page' }), { title: 'Welcome', can_edit: true })
  t.match(await client.getContent({ path: '/private' }), { '@id': '/private' })
})

test('wrong or missing credentials answer Plone\'s bodies and texts', async (t) => {
  const { apiPath } = await ploneBackend(t)
  const client = await clientFor(apiPath)
  const wrong = await refused(client.login({ username: 'alice', password: 'nope' }))
  t.same(wrong, { status: 401, body: { error: { type: 'Invalid credentials', message: 'Wrong login and/or password.' } } })
  const missing = await volto(apiPath, 'POST', '/@login', undefined, { login: 'alice' })
  t.same(missing, { status: 400, body: { error: { type: 'Missing credentials', message: 'Login and password must be provided in body.' } } })
})

test('extra login fields are ignored, and GET /@login lists no external login provider', async (t) => {
  const { apiPath } = await ploneBackend(t)
  const login = await volto(apiPath, 'POST', '/@login', undefined, { login: 'alice', password: 'wonderland', came_from: '/front-page' })
  t.equal(login.status, 200)
  t.type(login.body.token, 'string')
  t.same(await volto(apiPath, 'GET', '/@login'), { status: 200, body: { options: [] } })
})

test('Volto\'s renew and logout; a token revoked elsewhere makes public pages anonymous, not failing', async (t) => {
  const { apiPath } = await ploneBackend(t)
  const client = await clientFor(apiPath)
  const first = await client.login({ username: 'alice', password: 'wonderland' })
  const renewed = await volto(apiPath, 'POST', '/@login-renew', first)
  t.equal(renewed.status, 200)
  t.type(renewed.body.token, 'string')
  t.same(await volto(apiPath, 'POST', '/@logout', renewed.body.token), { status: 204, body: undefined })
  // The client keeps sending the token it holds: the public page serves the anonymous view.
  client.getConfig().token = renewed.body.token
  t.match(await client.getContent({ path: '/front-page' }), { can_edit: false })
  const denied = await refused(client.getContent({ path: '/private' }))
  t.equal(denied.status, 401, 'a page for signed-in users still refuses it')
  const again = await volto(apiPath, 'POST', '/@login-renew', renewed.body.token)
  t.equal(again.status, 401)
  t.same(again.body, { error: { type: 'Unauthorized', message: 'The token has been revoked' } })
})

test('logout with no store answers Plone\'s "cannot be invalidated"; a malformed header keeps its status', async (t) => {
  const { apiPath } = await ploneBackend(t, false)
  const login = await volto(apiPath, 'POST', '/@login', undefined, { login: 'alice', password: 'wonderland' })
  t.same(await volto(apiPath, 'POST', '/@logout', login.body.token), { status: 501, body: { error: { type: 'Logout failed', message: "Token can't be invalidated" } } })
  const response = await fetch(`${apiPath}/++api++/@login-renew`, { method: 'POST', headers: { authorization: 'Bearer a b' } })
  t.equal(response.status, 400)
  t.equal(response.headers.get('www-authenticate'), 'Bearer error="invalid_request"')
  t.same(await response.json(), { error: { type: 'Renew failed', message: 'The Authorization header must be "Bearer <token>"' } })
})

test('a host callback that throws answers Plone\'s body with no detail', async (t) => {
  const app = Fastify()
  t.after(() => app.close())
  await app.register(jwtAuth, { secret: SECRET, compat: 'plone', verifyCredentials: async () => { throw new Error('database password is hunter2') } })
  const response = await app.inject({ method: 'POST', url: '/@login', payload: { login: 'a', password: 'b' } })
  t.equal(response.statusCode, 500)
  t.same(response.json(), { error: { type: 'Login failed', message: 'Internal Server Error' } })
})

test('compat takes only \'plone\'', async (t) => {
  const app = Fastify()
  t.after(() => app.close())
  await t.rejects(async () => { await app.register(jwtAuth, { secret: SECRET, verifyCredentials, compat: 'zope' as 'plone' }) }, /compat must be 'plone'/)
})

test('compat: \'plone\' with the login route off adds no GET route', async (t) => {
  const app = Fastify()
  t.after(() => app.close())
  await app.register(jwtAuth, { secret: SECRET, compat: 'plone', routes: { login: false } })
  t.equal((await app.inject({ url: '/@login' })).statusCode, 404)
})

test('an error with no status, from a host hook on the plugin\'s routes, is a 500 with no detail', async (t) => {
  const app = Fastify()
  t.after(() => app.close())
  app.addHook('onRequest', async () => { throw new Error('internal detail') })
  await app.register(jwtAuth, { secret: SECRET, compat: 'plone', verifyCredentials })
  const response = await app.inject({ method: 'POST', url: '/@login-renew' })
  t.equal(response.statusCode, 500)
  t.same(response.json(), { error: { type: 'Renew failed', message: 'Internal Server Error' } })
})
