/**
 * The memory store's cost per session, at 1,000,000 sessions (ended ones with and without the
 * session registry's entry): heap in use before and after,
 * with a full collection each time (run with --expose-gc). Ended sessions are ended through
 * the plugin's own `jwtAuth.revoke`, as a logout ends them; renewed (live) sessions are
 * recorded by calling the store's `renew` as a renewal does, a million renewals through HTTP
 * being too slow to wait for. Not part of the package.
 */
import { randomBytes } from 'node:crypto'
import Fastify from 'fastify'
import jwtAuth, { memoryStore, type MemoryStore, type SessionClaims } from 'fastify-jwt-session'

const COUNT = 1_000_000

function heap (): number {
  (globalThis as { gc?: () => void }).gc?.()
  return process.memoryUsage().heapUsed
}

/** A session id as the plugin makes them: 128 random bits, base64url. */
const sessionId = (): string => randomBytes(16).toString('base64url')

/** Bytes per entry once `fill` has added COUNT entries to `store`. */
async function perEntry (store: MemoryStore, fill: (index: number) => unknown): Promise<number> {
  const before = heap()
  for (let index = 0; index < COUNT; index++) await fill(index)
  const after = heap()
  if (store.size !== COUNT) throw new Error(`the store holds ${store.size} entries, not ${COUNT}`)
  return (after - before) / COUNT
}

/** Bytes per session ended through `jwtAuth.revoke`, each by a user of its own, with or without the session registry. */
async function perEnded (withRegistry: boolean): Promise<number> {
  // Room for the registry's entry of each ended session too.
  const store = memoryStore({ maxEntries: 2 * COUNT })
  const app = Fastify()
  await app.register(jwtAuth, { secret: randomBytes(32), routes: false, revocationStore: withRegistry ? store : { ...store, registry: undefined } })
  const now = Math.floor(Date.now() / 1000)
  const claims = { jti: 'j', iat: now, exp: now + 43_200, auth_time: now, auth_us: now * 1e6, gen: 0, roles: [] }
  const bytes = await perEntry(store, async (index) => {
    await app.jwtAuth.revoke({ ...claims, sub: `user-${index}`, sid: sessionId() } as unknown as SessionClaims)
  })
  await app.close()
  return bytes
}

async function main (): Promise<void> {
  const perEndedBare = await perEnded(false)
  const perEndedListed = await perEnded(true)
  const live = memoryStore({ maxEntries: COUNT })
  const now = Math.floor(Date.now() / 1000)
  const at = Date.now() * 1000
  const perLive = await perEntry(live, (index) => live.renew(sessionId(), 0, at + index, now + 43_215))

  console.log(`memory store: ${perEndedBare.toFixed(1)} bytes per ended session (${perEndedListed.toFixed(1)} with the session registry's entry, each by a user of its own), ${perLive.toFixed(1)} bytes per renewed live session (key string included, ${COUNT} of each)`)
  process.stdout.write(`\nJSON ${JSON.stringify({ count: COUNT, bytesPerEndedSession: Number(perEndedBare.toFixed(1)), bytesPerEndedSessionWithRegistry: Number(perEndedListed.toFixed(1)), bytesPerRenewedSession: Number(perLive.toFixed(1)) })}`)
}

void main()
