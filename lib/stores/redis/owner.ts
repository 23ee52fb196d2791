import { OptionError, fail } from '../../options/checks'
import type { RedisClient } from '../../types'
import { isRefusal } from './preflight'
import type { PreflightGate } from './preflight-gate'

/*
 * One prefix, one app. Two apps on one Redis with one prefix share every key: a session id or
 * a user id of one is the same key as the other's (a logout-all in one logs the other's user
 * out) and they count each other's failed logins. Each app that signs claims its prefix at
 * start with the fingerprints of its keys (`jwt/key-fingerprint.ts`), kept in `<prefix>app`;
 * an app whose keys share none with the holder's is refused, before it serves anyone.
 */

/**
 * Claims the prefix, atomically. KEYS[1] `<prefix>app`, which holds the fingerprints of the
 * app that claimed it last, space-separated; ARGV this app's fingerprints. Absent, or sharing
 * one with ours (a restart, or a rotation: the new keys come with the old one kept to verify),
 * it becomes ours and the script answers 1; sharing none, it is another app's: left alone,
 * answers 0. The key never expires: an app holds its prefix for as long as it uses it, which
 * may be months without a restart, and a claim that lapsed would let a second app in beside
 * a running first one. Only GET and SET, on a key under the prefix: the minimal ACL covers it.
 * It has no bucket tag: the mirror's load reads only tagged keys, so it never loads this one.
 */
const CLAIM_SCRIPT = `
local held = redis.call('GET', KEYS[1])
if held then
  local ours = {}
  for _, fingerprint in ipairs(ARGV) do ours[fingerprint] = true end
  local shared = false
  for fingerprint in string.gmatch(held, '[^ ]+') do
    if ours[fingerprint] then shared = true end
  end
  if not shared then return 0 end
end
redis.call('SET', KEYS[1], table.concat(ARGV, ' '))
return 1
`

/** Wait before claiming again when Redis could not be reached, in milliseconds (as the start-up check does). */
const RETRY_DELAY = 500

/** The start-up check's gate, which also holds the store's calls until the app's claim of the prefix succeeded. */
export interface ClaimingGate extends PreflightGate {
  /**
   * Claims the prefix for the app whose keys have `fingerprints`. Resolves once claimed;
   * rejects with an `OptionError` when the prefix is another app's, or Redis refuses the
   * claim (then every call of the store fails with it, as after a refused start-up check).
   */
  claim (fingerprints: readonly string[]): Promise<void>
}

/** Why the claim of `prefix` is refused: it names the option, and both ways out. */
function claimedBy (prefix: string): never {
  fail(`another app (other keys) uses the prefix ${JSON.stringify(prefix)} on this Redis: its sessions, logouts and login ` +
    'counts would mix with this app\'s. Give each app its own prefix (redisStore\'s `prefix` option); or, if this app ' +
    `changed its keys without a rotation (the old key kept to verify while the new one is rolled out), delete the key ${JSON.stringify(`${prefix}app`)}.`)
}

/**
 * `gate`, with the claims of the prefix added to it: until a claim succeeded the store's calls
 * fail closed, and `passed` waits for it too. A Redis that cannot be reached is asked again
 * every {@link RETRY_DELAY} ms; a Redis that refuses (the prefix is another app's, or an
 * error it answered) is final, like the start-up check's refusal.
 */
export function claimingGate (gate: PreflightGate, client: RedisClient, prefix: string): ClaimingGate {
  let passed = gate.passed
  let closed = false
  const checks: Array<() => void> = []
  const stops: Array<() => void> = []

  function claim (fingerprints: readonly string[]): Promise<void> {
    let refusal: Error | undefined
    let done = false
    let retry: NodeJS.Timeout | undefined
    let settle!: (error?: Error) => void
    const claimed = new Promise<void>((resolve, reject) => {
      settle = (error) => { if (error === undefined) resolve(); else reject(error) }
    })
    // Heard through `passed`, the store's calls and the caller; nobody has to await it.
    claimed.catch(() => {})

    async function attempt (): Promise<void> {
      try {
        // The start-up check first: a Redis it refuses is not claimed from.
        await gate.passed
        if (Number(await client.eval(CLAIM_SCRIPT, 1, `${prefix}app`, ...fingerprints)) !== 1) claimedBy(prefix)
        done = true
        settle()
      } catch (error) {
        if (error instanceof OptionError || isRefusal(error)) {
          refusal = error instanceof OptionError
            ? error
            : new OptionError(`fastify-jwt-session: Redis refuses redisStore's claim of its prefix: ${error.message.split(', with args')[0] as string}`)
          done = true
          settle(refusal)
        } else if (!closed) {
          retry = setTimeout(() => { void attempt() }, RETRY_DELAY).unref()
        }
      }
    }
    checks.push(() => {
      if (refusal !== undefined) throw refusal
      if (!done) throw new Error('this app has not claimed its Redis prefix yet')
    })
    stops.push(() => {
      clearTimeout(retry)
      // Settled once: a no-op after.
      settle(new Error('the Redis store was closed before it could claim its prefix'))
    })
    passed = Promise.all([passed, claimed]).then(() => {})
    passed.catch(() => {})
    void attempt()
    return claimed
  }

  function close (): void {
    closed = true
    client.off('end', close)
    for (const stop of stops) stop()
    gate.close()
  }
  client.once('end', close)

  return {
    get passed () { return passed },
    assert () {
      gate.assert()
      for (const check of checks) check()
    },
    close,
    claim
  }
}
