/**
 * The memory store's cost per revoked token, at 1,000,000 revocations made through the
 * plugin's own `jwtAuth.revoke`, as a logout makes them: heap in use before and after, with
 * a full collection each time (run with --expose-gc). Not part of the package.
 */
import { randomBytes } from 'node:crypto'
import Fastify from 'fastify'
import jwtAuth, { memoryStore, type SessionClaims } from 'fastify-jwt-session'

const COUNT = 1_000_000

function heap (): number {
  (globalThis as { gc?: () => void }).gc?.()
  return process.memoryUsage().heapUsed
}

async function main (): Promise<void> {
  const store = memoryStore({ maxEntries: COUNT })
  const app = Fastify()
  await app.register(jwtAuth, { secret: randomBytes(32), routes: false, revocationStore: store })
  const now = Math.floor(Date.now() / 1000)
  const before = heap()
  for (let index = 0; index < COUNT; index++) {
    // The claims a token carries: its jti is 128 random bits, base64url.
    const claims = { jti: randomBytes(16).toString('base64url'), sid: 's', sub: 'u', iat: now, exp: now + 43_200, auth_time: now, roles: [] }
    await app.jwtAuth.revoke(claims as unknown as SessionClaims)
  }
  const after = heap()
  const perToken = (after - before) / COUNT
  console.log(`memory store: ${store.size} revoked tokens, ${((after - before) / 2 ** 20).toFixed(1)} MiB of heap, ${perToken.toFixed(1)} bytes per revoked token (key string included)`)
  process.stdout.write(`\nJSON ${JSON.stringify({ count: store.size, heapBytes: after - before, bytesPerToken: Number(perToken.toFixed(1)) })}`)
  await app.close()
}

void main()
