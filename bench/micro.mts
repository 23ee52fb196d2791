/**
 * Micro-benchmarks (tinybench): sign, verify without the cache, and the whole authenticate
 * hook with a hot token, per algorithm, in one quiet process; for HS256 also fast-jwt's
 * verifier alone and the bare HMAC, to show where a cache miss goes, and a verification of
 * nested claims, which the plugin deep-freezes once per verified token. Not part of the package.
 */
import { createHmac, generateKeyPairSync, randomBytes } from 'node:crypto'
import { createVerifier } from 'fast-jwt'
import Fastify, { type FastifyReply, type FastifyRequest } from 'fastify'
import { Bench } from 'tinybench'
import jwtAuth, { memoryStore, type JwtSessionOptions } from 'fastify-jwt-session'

const pem = (kind: 'ec' | 'rsa' | 'ed25519'): { privateKey: string, publicKey: string } => {
  const pair = kind === 'ec'
    ? generateKeyPairSync('ec', { namedCurve: 'P-256' })
    : kind === 'rsa' ? generateKeyPairSync('rsa', { modulusLength: 2048 }) : generateKeyPairSync('ed25519')
  return { privateKey: pair.privateKey.export({ type: 'pkcs8', format: 'pem' }) as string, publicKey: pair.publicKey.export({ type: 'spki', format: 'pem' }) as string }
}

const modes: Record<string, JwtSessionOptions> = {
  HS256: { secret: randomBytes(32) },
  ES256: { keys: [{ kid: 'k', algorithm: 'ES256', ...pem('ec') }] },
  RS256: { keys: [{ kid: 'k', algorithm: 'RS256', ...pem('rsa') }] },
  EdDSA: { keys: [{ kid: 'k', algorithm: 'EdDSA', ...pem('ed25519') }] }
}

async function main (): Promise<void> {
  const bench = new Bench({ time: 1000, warmup: true })
  const done = (): void => {}
  for (const [name, options] of Object.entries(modes)) {
    const cached = Fastify()
    await cached.register(jwtAuth, { ...options, routes: false, revocationStore: memoryStore() })
    const uncached = Fastify()
    await uncached.register(jwtAuth, { ...options, routes: false, cacheSize: 0, revocationStore: memoryStore() })
    const token = cached.jwtAuth.sign({ sub: 'bench', roles: ['user'] })
    const request = { headers: { authorization: `Bearer ${token}` }, user: null } as unknown as FastifyRequest
    bench
      .add(`${name} sign`, () => { cached.jwtAuth.sign({ sub: 'bench', roles: ['user'] }) })
      .add(`${name} verify, no cache`, async () => { await uncached.jwtAuth.verify(token) })
      .add(`${name} authenticate hook, hot token`, () => {
        (request as { user: unknown }).user = null
        cached.authenticate(request, {} as FastifyReply, done)
      })
  }
  // Where a cache miss goes (HS256): fast-jwt's verifier alone, and the bare HMAC of the signing input.
  const secret = modes.HS256?.secret as Buffer
  const reference = Fastify()
  await reference.register(jwtAuth, { secret, routes: false })
  const token = reference.jwtAuth.sign({ sub: 'bench', roles: ['user'] })
  const fastJwt = createVerifier({ key: secret, algorithms: ['HS256'], cache: false, complete: true })
  const input = token.slice(0, token.lastIndexOf('.'))
  // The deep freeze walks every object of the claims: nested host claims cost it the most.
  const noCache = Fastify()
  await noCache.register(jwtAuth, { secret, routes: false, cacheSize: 0 })
  const nested = noCache.jwtAuth.sign({ sub: 'bench', roles: ['user'], claims: { profile: { tier: 'gold', locale: 'en', flags: { beta: true, news: false } }, groups: ['a', 'b', 'c'], org: { id: 7, name: 'Example' } } })
  bench
    .add('HS256 verify, no cache, nested claims (deep-frozen)', async () => { await noCache.jwtAuth.verify(nested) })
    .add('HS256 fast-jwt verifier alone', () => { fastJwt(token) })
    .add('HS256 node:crypto HMAC of the signing input alone', () => { createHmac('sha256', secret).update(input).digest('base64url') })
  await bench.run()
  const rows = bench.tasks.map((task) => ({ name: task.name, opsPerSecond: Math.round(task.result?.throughput.mean ?? 0), meanMicroseconds: Number(((task.result?.latency.mean ?? 0) * 1000).toFixed(2)) }))
  console.table(rows)
  process.stdout.write(`\nJSON ${JSON.stringify(rows)}`)
}

void main()
