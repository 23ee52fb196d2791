import { Redis } from 'ioredis'
import { memoryStore, redisStore, type RevocationStore } from 'fastify-jwt-session'
import { buildOrdersService } from './orders-service'
import { buildUserService } from './user-service'

/** Ports and the optional Redis URL, from the environment. */
export interface MicroservicesEnv {
  USERS_PORT?: string
  ORDERS_PORT?: string
  HOST?: string
  REDIS_URL?: string
}

/**
 * Starts both services. They share one revocation store: Redis with `REDIS_URL` (as two
 * separate deployments would), otherwise one memory store in this process.
 */
export async function startMicroservices (env: MicroservicesEnv = process.env): Promise<{ users: string, orders: string, close: () => Promise<void> }> {
  const host = env.HOST ?? '127.0.0.1'
  const clients: Redis[] = []
  const loading: Array<Promise<void>> = []
  const store = (): RevocationStore => {
    if (env.REDIS_URL === undefined || env.REDIS_URL === '') return shared
    const client = new Redis(env.REDIS_URL, { enableOfflineQueue: false, maxRetriesPerRequest: 1 })
    clients.push(client)
    const redis = redisStore({ client })
    loading.push(redis.ready())
    return redis
  }
  const shared = memoryStore()
  const users = await buildUserService(store())
  const usersUrl = await users.listen({ port: Number(env.USERS_PORT ?? 3001), host })
  const orders = await buildOrdersService(`${usersUrl}/.well-known/jwks.json`, store())
  // Each Redis mirror answers 503 until it has loaded: take requests once they have.
  await Promise.all(loading)
  const ordersUrl = await orders.listen({ port: Number(env.ORDERS_PORT ?? 3002), host })
  return {
    users: usersUrl,
    orders: ordersUrl,
    close: async () => {
      await orders.close()
      await users.close()
      for (const client of clients) client.disconnect()
    }
  }
}

if (require.main === module) {
  startMicroservices().catch((error: unknown) => {
    console.error(error)
    process.exit(1)
  })
}
