import { spawn } from 'node:child_process'
import { test } from 'tap'
import { Cluster, type Redis } from 'ioredis'
import { OptionError, redisStore, type SessionRecord } from '../../lib/index'
import { LOG_LENGTH, bucketOf, storeKeys } from '../../lib/stores/redis/keys'
import { END_SCRIPT } from '../../lib/stores/redis/scripts'
import { bearer, buildApp, login } from '../helpers'
import { RedisServer, eventually } from '../redis-server'

/*
 * A Redis Cluster with one replica per master, and a host client that spreads its reads over
 * the replicas (ioredis' `scaleReads: 'slave'`, a documented Cluster option that hosts turn
 * on to unload their masters). Replication is asynchronous: a replica may not hold a logout
 * its master acknowledged yet; here its link is cut so that it holds it back on demand.
 *
 * Lookup mode would read the session key (MGET, a read-only command) from the replica and
 * answer 200 to a token whose logout was answered 204: the store refuses such a client.
 */

async function redisCli (args: string[]): Promise<string> {
  return await new Promise((resolve, reject) => {
    const child = spawn('redis-cli', args, { stdio: ['ignore', 'pipe', 'pipe'] })
    let output = ''
    child.stdout.on('data', (chunk: Buffer) => { output += String(chunk) })
    child.stderr.on('data', (chunk: Buffer) => { output += String(chunk) })
    child.once('error', reject)
    child.once('exit', (code) => code === 0 ? resolve(output) : reject(new Error(`redis-cli exited (${code}): ${output}`)))
  })
}

const keys = storeKeys('jwt-session:')
const info = async (admin: Redis, section: string): Promise<string> => String(await admin.call('INFO', section))

test('a Cluster client reading from replicas: an acknowledged logout is never answered 200', async (t) => {
  // Replicas authenticate to their master as `repl`, which the test can switch off to cut their link.
  const nodes = await Promise.all(Array.from({ length: 6 }, async () => await RedisServer.start(t, {
    args: ['--cluster-enabled', 'yes', '--cluster-node-timeout', '5000', '--repl-diskless-sync-delay', '0',
      '--masteruser', 'repl', '--masterauth', 'repl-password', '--user', 'repl', 'on', '>repl-password', '+@all', '~*', '&*']
  })))
  await redisCli(['--cluster', 'create', ...nodes.map((node) => `127.0.0.1:${node.port}`), '--cluster-replicas', '1', '--cluster-yes'])
  const admins = await Promise.all(nodes.map(async (node) => await node.admin()))
  await eventually(async () => (await Promise.all(admins.map(async (admin) => await info(admin, 'replication')))).every((text) =>
    text.includes('role:master') ? /connected_slaves:1/.test(text) : text.includes('master_link_status:up')), 30_000)
  await eventually(async () => (await Promise.all(admins.map(async (admin) => String(await admin.call('CLUSTER', 'INFO'))))).every((text) => text.includes('cluster_state:ok')), 30_000)
  // Every slot range lists its replica, so that the client learns of them (CLUSTER SLOTS).
  await eventually(async () => (await admins[0]?.call('CLUSTER', 'SLOTS') as unknown[][]).every((range) => range.length >= 4), 30_000)

  const client = new Cluster(nodes.map((node) => ({ host: '127.0.0.1', port: node.port })), {
    scaleReads: 'slave',
    redisOptions: { maxRetriesPerRequest: 1, connectTimeout: 500, commandTimeout: 1000 }
  })
  client.on('error', () => {})
  t.teardown(() => { client.disconnect() })
  await new Promise((resolve) => client.once('ready', resolve))
  t.equal(client.nodes('slave').length, 3, 'the client reads from three replicas')
  let store
  try {
    store = redisStore({ client, mode: 'lookup' })
  } catch (error) {
    // Refusing such a client, with a reason, keeps the promise too.
    t.ok(error instanceof OptionError && /scaleReads/.test(error.message), 'the store refuses a client that reads from replicas, naming scaleReads')
    return
  }
  t.teardown(async () => await store.close())
  const app = await buildApp(t, { revocationStore: store })
  await store.ready()
  const mirror = redisStore({ client })
  t.teardown(async () => await mirror.close())
  await mirror.ready()
  const token = await login(app)
  t.equal((await app.inject({ url: '/me', headers: bearer(token) })).statusCode, 200)

  // Every replica's link to its master is cut (they serve what they hold: replica-serve-stale-data).
  const masters: Redis[] = []
  for (const admin of admins) if ((await info(admin, 'replication')).includes('role:master')) masters.push(admin)
  for (const master of masters) {
    await master.call('ACL', 'SETUSER', 'repl', 'off')
    await master.call('CLIENT', 'KILL', 'TYPE', 'replica')
  }
  await eventually(async () => (await Promise.all(admins.map(async (admin) => await info(admin, 'replication'))))
    .filter((text) => text.includes('role:slave')).every((text) => text.includes('master_link_status:down')))

  t.equal((await app.inject({ method: 'POST', url: '/@logout', headers: bearer(token) })).statusCode, 204, 'the master acknowledged the logout')
  t.equal((await app.inject({ url: '/me', headers: bearer(token) })).statusCode, 401, 'lookup mode: the logged-out token is refused')

  // Mirror mode: a logout made while its subscription is down is read from the logs, on a replica.
  let subscribedOn: Redis | undefined
  for (const master of masters) if (String(await master.call('CLIENT', 'LIST', 'TYPE', 'pubsub')) !== '') subscribedOn = master
  const on = subscribedOn as Redis
  let bucket = 0
  while (await on.exists(keys.log(bucket)).then(() => false, () => true)) bucket++
  let sid = 'blip'
  for (let index = 0; bucketOf(sid) !== bucket; index++) sid = `blip-${index}`
  const batch = on.multi().call('CLIENT', 'KILL', 'TYPE', 'pubsub')
    .eval(END_SCRIPT, 2, keys.session(sid), keys.log(bucket), 'jwt-session:revoked', bucket, LOG_LENGTH, sid, Math.floor(Date.now() / 1000) + 600, 'x')
  for (const [error] of await batch.exec() ?? []) if (error !== null) throw error
  const honoured = (): boolean => { try { return (mirror.session(sid) as SessionRecord | undefined)?.ended === true } catch { return false } }
  await eventually(async () => honoured(), 3000).catch(() => {})
  t.ok(honoured(), 'mirror mode: the logout made during the blip is honoured')
})
