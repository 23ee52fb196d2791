import { test } from 'tap'
import { bearer, decodePayload } from './helpers'
import { consumerApp, eventually, FEED_HEADERS, issuerApp, loginAt, memoryStore, statusOf } from './feed-helpers'

/*
 * The feed carries every revocation the issuer's store records to services that only verify:
 * logout, logout everywhere, a replayed renewal, jwtAuth.revoke and revokeSubject, each refused
 * at a consumer with a secret (HS256) and at one that reads the issuer's JWKS (ES256).
 */

for (const mode of ['secret', 'jwks'] as const) {
  test(`every kind of revocation reaches a consumer (${mode})`, async (t) => {
    const issuer = await issuerApp(t, memoryStore(), { keys: mode === 'jwks' })
    const consumers = [await consumerApp(t, issuer.url, mode), await consumerApp(t, issuer.url, mode)]
    const tokens = { logout: await loginAt(issuer.app), all: await loginAt(issuer.app, 'bob'), replay: await loginAt(issuer.app), revoke: await loginAt(issuer.app), subject: await loginAt(issuer.app, 'bob') }
    for (const consumer of consumers) {
      t.ok(await eventually(async () => await statusOf(consumer, tokens.logout) === 200), 'the consumer becomes ready')
    }
    t.equal((await issuer.app.inject({ method: 'POST', url: '/@logout', headers: bearer(tokens.logout) })).statusCode, 204)
    t.equal((await issuer.app.inject({ method: 'POST', url: '/@logout', headers: bearer(tokens.all), payload: { all: true } })).statusCode, 204)
    // A renewal retires the old generation (no grace here); renewing the old one again is a replay: the session ends.
    const renewed = (await issuer.app.inject({ method: 'POST', url: '/@login-renew', headers: bearer(tokens.replay) })).json().token
    for (const consumer of consumers) {
      t.ok(await eventually(async () => await statusOf(consumer, tokens.replay) === 401), 'the renewed-away token is refused')
      t.equal(await statusOf(consumer, renewed), 200, 'the new generation passes')
    }
    t.equal((await issuer.app.inject({ method: 'POST', url: '/@login-renew', headers: bearer(tokens.replay) })).statusCode, 401)
    await issuer.app.jwtAuth.revoke(await issuer.app.jwtAuth.verify(tokens.revoke))
    await issuer.app.jwtAuth.revokeSubject('u-bob')
    for (const consumer of consumers) {
      for (const [name, token] of Object.entries({ ...tokens, renewed })) {
        t.ok(await eventually(async () => await statusOf(consumer, token) === 401), `${name} is refused`)
        const response = await consumer.inject({ url: '/me', headers: bearer(token) })
        t.equal(response.json().code, 'FST_JWT_SESSION_REVOKED_TOKEN', `${name}: revoked`)
        await t.rejects(consumer.jwtAuth.verify(token), { code: 'FST_JWT_SESSION_REVOKED_TOKEN' }, `${name}: jwtAuth.verify too`)
        t.same((await consumer.inject({ url: '/optional', headers: bearer(token) })).json(), { user: null }, `${name}: authenticateOptional too`)
        // @fastify/jwt is offered with a secret or keys, not through a remote JWKS.
        if (mode === 'secret') t.equal((await consumer.inject({ url: '/jwt-verify', headers: bearer(token) })).json().code, 'FST_JWT_SESSION_REVOKED_TOKEN', `${name}: request.jwtVerify() too`)
      }
    }
    const fresh = await loginAt(issuer.app)
    t.equal(await statusOf(consumers[0]!, fresh), 200, 'a new login passes')
    await t.rejects(consumers[0]!.jwtAuth.revoke(decodePayload(fresh) as never), { code: 'FST_JWT_SESSION_STORE_UNAVAILABLE' }, 'a consumer cannot revoke: its copy is read-only')
  })
}

test('a consumer started after 2,000 logouts answers 503 until its snapshot is complete, then refuses them all', async (t) => {
  const store = memoryStore()
  const issuer = await issuerApp(t, store)
  const tokens: string[] = []
  for (let index = 0; index < 2000; index++) {
    const token = issuer.app.jwtAuth.sign({ sub: `user-${index}` })
    await issuer.app.jwtAuth.revoke(await issuer.app.jwtAuth.verify(token))
    tokens.push(token)
  }
  await issuer.app.jwtAuth.revokeSubject('user-x')
  // A renewed session travels in the snapshot too: its generation 0 is retired (no grace here).
  const renewedAway = issuer.app.jwtAuth.sign({ sub: 'user-renewed' })
  const renewedClaims = decodePayload(renewedAway)
  store.renew(renewedClaims.sid, 0, Date.now() * 1000, renewedClaims.exp + 60)
  tokens.push(renewedAway)
  // A long maxStaleness: checking 2,000 tokens keeps this process busy, issuer and consumer alike.
  const consumer = await consumerApp(t, issuer.url, 'secret', { followRevocations: { url: `${issuer.url}/@revocations`, headers: FEED_HEADERS, maxStaleness: 60 } })
  const first = await consumer.inject({ url: '/me', headers: bearer(tokens[0]!) })
  t.equal(first.statusCode, 503, 'not ready before the snapshot')
  t.equal(first.json().code, 'FST_JWT_SESSION_STORE_UNAVAILABLE')
  t.ok(first.headers['retry-after'], 'with Retry-After')
  t.ok(await eventually(async () => await statusOf(consumer, tokens[0]!) !== 503), 'ready once the snapshot is in')
  for (const token of tokens) {
    const status = await statusOf(consumer, token)
    if (status !== 401) t.fail(`a revoked token was answered ${status}`)
  }
  t.pass('all 2,000 refused')
})

test('the issuer stopped: 503 after maxStaleness; back on the same port, a token revoked meanwhile is refused, never 200', async (t) => {
  const store = memoryStore()
  const issuer = await issuerApp(t, store)
  const consumer = await consumerApp(t, issuer.url, 'secret')
  const token = await loginAt(issuer.app)
  t.ok(await eventually(async () => await statusOf(consumer, token) === 200))
  await issuer.app.close()
  t.ok(await eventually(async () => await statusOf(consumer, token) === 503), '503 once the feed is stale')
  t.equal((await consumer.inject({ url: '/optional', headers: bearer(token) })).statusCode, 503, 'authenticateOptional fails closed too')
  t.equal((await consumer.inject({ url: '/jwt-verify', headers: bearer(token) })).statusCode, 503, 'request.jwtVerify() too')
  await t.rejects(consumer.jwtAuth.verify(token), { code: 'FST_JWT_SESSION_STORE_UNAVAILABLE' }, 'jwtAuth.verify() too')
  const claims = decodePayload(token)
  store.end(claims.sid, claims.exp + 60)
  await issuerApp(t, store, { port: issuer.port })
  const seen = new Set<number>()
  t.ok(await eventually(async () => {
    const status = await statusOf(consumer, token)
    seen.add(status)
    return status === 401
  }), 'refused once back')
  t.notOk(seen.has(200), 'never 200')
})
