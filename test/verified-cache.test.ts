import { test } from 'tap'
import type { FastifyInstance } from 'fastify'
import { fingerprint } from '../lib/jwt/admission'
import { buildApp, fakeClock, login } from './helpers'

/** `/me` answers the claims; `/seen` answers whether `request.user` is the object seen before. */
async function app (t: Parameters<typeof buildApp>[0], options: Parameters<typeof buildApp>[1] = {}): Promise<FastifyInstance & { seen: unknown[] }> {
  const seen: unknown[] = []
  const built = await buildApp(t, options, (server) => {
    server.get('/seen', { onRequest: server.authenticate }, async (request) => {
      seen.push(request.user)
      return { sub: request.user.sub }
    })
  })
  return Object.assign(built, { seen })
}

async function get (server: FastifyInstance, authorization: string, url = '/me'): Promise<{ status: number, body: any }> {
  const response = await server.inject({ url, headers: { authorization } })
  return { status: response.statusCode, body: response.json() }
}

/** Two tokens of `server` with the same cache fingerprint and different subjects: a birthday search. */
function collidingTokens (server: FastifyInstance): [string, string] {
  const byPrint = new Map<number, string>()
  for (let index = 0; ; index++) {
    const token = server.jwtAuth.sign({ sub: `user-${index}` })
    const earlier = byPrint.get(fingerprint(token))
    if (earlier !== undefined) return [earlier, token]
    byPrint.set(fingerprint(token), token)
  }
}

test('a token with the signature of a cached token and another payload has its fingerprint, and is refused', async (t) => {
  const server = await app(t)
  const token = await login(server)
  for (let i = 0; i < 3; i++) t.equal((await get(server, `Bearer ${token}`)).status, 200)
  const [, payload, signature] = token.split('.')
  const forgedPayload = Buffer.from(JSON.stringify({ ...JSON.parse(Buffer.from(payload as string, 'base64url').toString()), roles: ['admin'], sub: 'u-mallory' })).toString('base64url')
  const forgeries = [
    `${token.split('.')[0] as string}.${forgedPayload}.${signature as string}`,
    `eyJhbGciOiJIUzI1NiJ9.${payload as string}.${signature as string}`,
    `x${token}`
  ]
  for (const forged of forgeries) {
    t.equal(fingerprint(forged), fingerprint(token), 'same fingerprint')
    const answer = await get(server, `Bearer ${forged}`)
    t.equal(answer.status, 401)
    t.equal(answer.body.code, 'FST_JWT_SESSION_INVALID_TOKEN')
    await t.rejects(Promise.resolve().then(() => server.jwtAuth.verify(forged)), { code: 'FST_JWT_SESSION_INVALID_TOKEN' }, 'through jwtAuth.verify too')
  }
  t.equal((await get(server, `Bearer ${token}`)).body.sub, 'u-alice', 'the cached token still answers its own claims')
})

test('two valid tokens with one fingerprint each answer their own claims, cached or not', async (t) => {
  const server = await app(t)
  const [first, second] = collidingTokens(server)
  t.not(first, second)
  for (let round = 0; round < 3; round++) {
    for (const [token, index] of [[first, 0], [second, 1]] as const) {
      const sub = JSON.parse(Buffer.from(token.split('.')[1] as string, 'base64url').toString()).sub
      t.equal((await get(server, `Bearer ${token}`)).body.sub, sub, `round ${round}, token ${index}, by header`)
      t.equal((await server.jwtAuth.verify(token)).sub, sub, `round ${round}, token ${index}, by token`)
    }
  }
})

test('a cached token is found in every spelling of the header, and answers the same claims', async (t) => {
  const server = await app(t)
  const token = await login(server)
  for (const authorization of [`Bearer ${token}`, `Bearer ${token}`, `bearer ${token}`, `BEARER   ${token}`, `Bearer ${token}`]) {
    t.same(await get(server, authorization, '/seen'), { status: 200, body: { sub: 'u-alice' } }, authorization.slice(0, 10))
  }
  t.equal(server.seen[2], server.seen[1], 'cached from the second sighting on')
  t.equal(server.seen[3], server.seen[1], 'another spelling finds the cached token')
  t.equal(server.seen[4], server.seen[1])
  t.equal((await get(server, `Bearer ${token}x`)).status, 401, 'a longer token is another token')
  t.equal((await get(server, `Bearer  ${token}`)).status, 200, 'two spaces: parsed, then found by token')
})

test('a cached token is checked for expiry and revocation on every request', async (t) => {
  const clock = fakeClock(t)
  const server = await app(t, { expiresIn: 60, clockTolerance: 0 })
  const token = await login(server)
  for (let i = 0; i < 3; i++) t.equal((await get(server, `Bearer ${token}`)).status, 200)
  clock.tick(60_000)
  t.equal((await get(server, `Bearer ${token}`)).status, 200, 'at exp, still valid')
  clock.tick(1_000)
  t.same((await get(server, `Bearer ${token}`)).body.code, 'FST_JWT_SESSION_EXPIRED_TOKEN', 'past exp: expired, though cached')
  await t.rejects(Promise.resolve().then(() => server.jwtAuth.verify(token)), { code: 'FST_JWT_SESSION_EXPIRED_TOKEN' })

  const fresh = await login(server)
  for (let i = 0; i < 3; i++) t.equal((await get(server, `Bearer ${fresh}`)).status, 200)
  await server.jwtAuth.revoke(await server.jwtAuth.verify(fresh))
  t.same((await get(server, `Bearer ${fresh}`)).body.code, 'FST_JWT_SESSION_REVOKED_TOKEN', 'revoked, though cached')
})

test('a full cache drops the oldest token not used since, and keeps the ones in use', async (t) => {
  const server = await app(t, { cacheSize: 2 })
  const [a, b, c, d] = ['a', 'b', 'c', 'd'].map((sub) => server.jwtAuth.sign({ sub })) as [string, string, string, string]
  const verify = async (token: string): Promise<unknown> => await server.jwtAuth.verify(token)
  // Admitted on the second sighting: the second verification caches it.
  const cache = async (token: string): Promise<unknown> => { await verify(token); return await verify(token) }
  const cachedA = await cache(a)
  const cachedB = await cache(b)
  t.equal(await verify(a), cachedA, 'a is cached, and now used')
  await cache(c)
  t.equal(await verify(a), cachedA, 'a, used since it was cached, stayed when c came')
  const cachedC = await verify(c)
  t.equal(await verify(c), cachedC, 'c is cached')
  // a and c are both used: the hand passes over both once, then drops the older one.
  await cache(d)
  t.equal(await verify(c), cachedC, 'c stayed when d came')
  t.not(await verify(a), cachedA, 'a went')
  t.not(await verify(b), cachedB, 'b, unused, had made room for c')
})

test('a full cache turns over, holding at most cacheSize tokens, each answering its own claims', async (t) => {
  const server = await app(t, { cacheSize: 4 })
  const tokens = Array.from({ length: 10 }, (_, index) => server.jwtAuth.sign({ sub: `user-${index}` }))
  const verify = async (token: string): Promise<unknown> => await server.jwtAuth.verify(token)
  const held = new Map<string, unknown>()
  for (const token of tokens) {
    await verify(token)
    held.set(token, await verify(token))
  }
  // No hits in between: the hand drops the oldest, so the last four stay.
  const kept: string[] = []
  // Newest first: the cached ones are read (hits) before a miss can be admitted and evict one.
  for (const token of [...tokens].reverse()) {
    const again = await verify(token)
    t.equal((again as { sub: string }).sub, (held.get(token) as { sub: string }).sub, 'its own claims')
    if (again === held.get(token)) kept.push(token)
  }
  t.same(kept, tokens.slice(6).reverse(), 'the four newest were cached, the others made room in turn')
})
