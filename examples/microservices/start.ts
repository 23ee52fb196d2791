import { randomBytes } from 'node:crypto'
import type { AddressInfo } from 'node:net'
import { buildOrdersService } from './orders-service'
import { buildUserService } from './user-service'

/** Ports, the host and the feed's credential, from the environment. */
export interface MicroservicesEnv {
  USERS_PORT?: string
  ORDERS_PORT?: string
  HOST?: string
  FEED_KEY?: string
}

/**
 * Starts both services. They share no store: the orders service follows the users service's
 * revocation feed, reading it with `FEED_KEY` (random when unset; set it to let another
 * follower in, such as the Python example).
 */
export async function startMicroservices (env: MicroservicesEnv = process.env): Promise<{ users: string, orders: string, close: () => Promise<void> }> {
  const host = env.HOST ?? '127.0.0.1'
  const feedKey = env.FEED_KEY === undefined || env.FEED_KEY === '' ? randomBytes(32).toString('base64url') : env.FEED_KEY
  const users = await buildUserService({ feedKey })
  if (feedKey !== env.FEED_KEY) users.log.warn('FEED_KEY is not set: using a random one, so only the orders service started here can read the revocation feed')
  const usersUrl = await users.listen({ port: Number(env.USERS_PORT ?? 3001), host })
  // The orders service reaches the users service on the loopback interface when it listens on all of them.
  const { port } = users.server.address() as AddressInfo
  const reach = host === '0.0.0.0' || host === '::' ? `http://127.0.0.1:${port}` : usersUrl
  const orders = await buildOrdersService(reach, feedKey)
  // Until its first snapshot of the users service's revocations, the orders service answers 503.
  const ordersUrl = await orders.listen({ port: Number(env.ORDERS_PORT ?? 3002), host })
  return {
    users: usersUrl,
    orders: ordersUrl,
    close: async () => {
      await orders.close()
      await users.close()
    }
  }
}

if (require.main === module) {
  startMicroservices().catch((error: unknown) => {
    console.error(error)
    process.exit(1)
  })
}
