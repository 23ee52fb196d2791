import { fail } from '../../options/checks'
import type { RedisClient } from '../../types'
import { masterNodes } from './nodes'

/*
 * Checks, before the first logout, that Redis will keep every revocation the store writes and
 * let the store do its work. Each problem found here would otherwise show only later: an
 * evicting Redis silently brings logged-out tokens back; a renamed EVAL, an ACL without the
 * channel or an old Redis answer 503 on the first logout, long after a deploy looked fine.
 */

/** What the store is going to touch, for the permission check. */
export interface PreflightTarget {
  /** One key of each kind the store writes (`<prefix>s:` ...): the ACL key patterns must cover them. */
  readonly keys: readonly string[]
  /** One log key (`<prefix>log:`): the scripts append to the logs, the mirror reads them. */
  readonly log: string
  /** The pub/sub channel the store publishes on and the mirror subscribes to. */
  readonly channel: string
  /** Whether the store sends `WAIT` (with `minReplicas`). */
  readonly wait: boolean
}

/** The oldest Redis the store runs on: 7.0 brought `redis.acl_check_cmd` and `XADD`'s `0-*` ids. */
const MIN_VERSION: readonly [number, number] = [7, 0]

/**
 * Commands the store's scripts and reads run on its keys (each key of {@link PreflightTarget}),
 * with the arguments that follow the key: the ACL reads every argument of MGET as a key. A
 * script's calls are weighed by the ACL one by one, as if sent alone: the mirror's load
 * script needs GET and PTTL here, and SCAN in {@link OTHER_COMMANDS}. Every lifetime is
 * relative (PTTL, SET's PX, PEXPIRE): Redis' clock is not the app's.
 */
export const KEY_COMMANDS: ReadonlyArray<readonly [string, ...string[]]> = [
  ['GET'], ['SET', '0'], ['MGET'], ['INCR'], ['DECR'], ['PEXPIRE', '0'], ['PTTL']
]
/** Commands the scripts and the mirror run on the logs, with the arguments that follow the key. */
export const LOG_COMMANDS: ReadonlyArray<readonly [string, ...string[]]> = [
  ['XADD', 'MAXLEN', '~', '1', '0-*', 'k', 's'], ['XRANGE', '-', '+'], ['XREVRANGE', '+', '-'], ['PTTL'], ['PEXPIRE', '0']
]
/** Keyless commands the store runs: the scripts' clock and the mirror's load (SCAN, inside its script). */
export const OTHER_COMMANDS = ['TIME', 'SCAN'] as const

/**
 * Answers, for each `[command, ...args]` of the JSON list in ARGV[1], whether the connection's
 * user may run it: `redis.acl_check_cmd` weighs the command, its keys and its channel as the
 * ACL would, without running anything (publishing a probe would disturb every mirror). A
 * command Redis does not know (renamed away) counts as refused. Answers the 1-based indexes
 * of the refused calls.
 */
const PERMISSIONS_SCRIPT = `
local refused = {}
for index, call in ipairs(cjson.decode(ARGV[1])) do
  local known, allowed = pcall(redis.acl_check_cmd, unpack(call))
  if not known or not allowed then table.insert(refused, index) end
end
return refused
`

/**
 * Answers Redis gives while it cannot serve yet (loading its data, a script running, a
 * failover or a resharding under way): the question is asked again later, not refused.
 */
const TRANSIENT_REPLIES = /^(LOADING|BUSY|MASTERDOWN|CLUSTERDOWN|TRYAGAIN) /

/** An error Redis answered (ioredis' `ReplyError`) that is its last word, as opposed to a connection that failed or a Redis not ready yet. */
export function isRefusal (error: unknown): error is Error {
  return error instanceof Error && error.name === 'ReplyError' && !TRANSIENT_REPLIES.test(error.message)
}

/** The value of `field` in an `INFO` answer, or undefined. */
function infoField (info: string, field: string): string | undefined {
  return new RegExp(`^${field}:(.*)$`, 'm').exec(info)?.[1]?.trim()
}

/** Refuses a Redis older than {@link MIN_VERSION}, a replica, or one that can evict keys. */
export function checkInfo (info: string): void {
  const version = infoField(info, 'redis_version') ?? 'unknown'
  const [major = NaN, minor = NaN] = version.split('.').map(Number)
  if (!(major > MIN_VERSION[0] || (major === MIN_VERSION[0] && minor >= MIN_VERSION[1]))) {
    fail(`redisStore needs Redis ${MIN_VERSION.join('.')} or later; this one is ${version}`)
  }
  if (infoField(info, 'role') === 'slave') {
    fail('redisStore needs a master; this Redis is a replica, whose copy lags (and stops while its link is down), so a token logged out on the master could be let in')
  }
  const policy = infoField(info, 'maxmemory_policy') ?? 'unknown'
  if (policy !== 'noeviction') {
    fail(`redisStore needs maxmemory-policy noeviction; this Redis has ${policy}, which can evict revocations and bring logged-out tokens back`)
  }
}

/** Every `[command, ...args]` the store's user must be allowed. */
function calls (target: PreflightTarget): string[][] {
  return [
    ...target.keys.flatMap((key) => KEY_COMMANDS.map(([command, ...rest]) => [command, key, ...rest])),
    ...LOG_COMMANDS.map(([command, ...rest]) => [command, target.log, ...rest]),
    ...OTHER_COMMANDS.map((command) => [command, '0']),
    ['PUBLISH', target.channel, ''],
    ['SUBSCRIBE', target.channel],
    ...(target.wait ? [['WAIT', '0', '0']] : [])
  ]
}

/** Checks one node: version, eviction policy, scripts, and every command, key and channel the store uses. */
async function checkNode (node: RedisClient, target: PreflightTarget): Promise<void> {
  checkInfo(String(await refusedAs(node.call('INFO'), 'INFO')))
  const wanted = calls(target)
  const refused = await refusedAs(node.eval(PERMISSIONS_SCRIPT, 0, JSON.stringify(wanted)), 'scripts (EVAL)')
  if (Array.isArray(refused) && refused.length > 0) {
    const names = refused.map((index) => (wanted[Number(index) - 1] as string[]).slice(0, 2).join(' '))
    fail(`the Redis user of redisStore may not run ${names.join(', ')}; grant them (see the README's minimal ACL)`)
  }
}

/** `pending`, with an error Redis answered turned into a refusal that names `what`. */
async function refusedAs (pending: Promise<unknown>, what: string): Promise<unknown> {
  try {
    return await pending
  } catch (error) {
    // Redis quotes the start of the arguments (the script's text): the reason is enough.
    if (isRefusal(error)) fail(`Redis refuses ${what} to redisStore: ${error.message.split(', with args')[0] as string}`)
    throw error
  }
}

/**
 * Checks every master the client reaches. Rejects with an `OptionError` naming the problem
 * when Redis answered and the answer is one the store cannot work with; rejects with the
 * connection's own error when Redis could not be asked (the caller tries again later).
 *
 * @example
 * ```ts
 * await preflight(client, { keys: ['jwt-session:s:'], log: 'jwt-session:log:', channel: 'jwt-session:revoked', wait: false })
 * ```
 */
export async function preflight (client: RedisClient, target: PreflightTarget): Promise<void> {
  const nodes = masterNodes(client)
  // A Cluster client that has not discovered its nodes yet: not checked, so not passed.
  if (nodes.length === 0) throw new Error('no Redis node is reachable yet')
  for (const node of nodes) await checkNode(node, target)
}
