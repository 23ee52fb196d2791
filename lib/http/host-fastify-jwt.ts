import type { FastifyInstance } from 'fastify'

/** What this check needs of a @fastify/jwt decorator (`fastify.jwt`, or one of its namespaces). */
interface JwtDecorator { verify: (token: string) => unknown }

/**
 * fast-jwt's errors for a token whose signature was not checked, or not accepted: the key,
 * the algorithm or the token's form. Any other outcome (success, or a claim refused: `aud`,
 * `iss`, `exp`, a required claim, `typ`) comes after the signature was accepted.
 */
const SIGNATURE_REFUSED: ReadonlySet<string> = new Set([
  'FAST_JWT_INVALID_ALGORITHM', 'FAST_JWT_INVALID_SIGNATURE', 'FAST_JWT_INVALID_KEY', 'FAST_JWT_MISSING_KEY',
  'FAST_JWT_KEY_FETCHING_ERROR', 'FAST_JWT_MISSING_SIGNATURE', 'FAST_JWT_MALFORMED', 'FAST_JWT_VERIFY_ERROR'
])

/** How long a host's verifier may take (a key function that fetches) before the check gives up on it. */
const PROBE_TIMEOUT_MS = 1000

/** The host's @fastify/jwt decorators, by the name the warning gives them: `fastify.jwt`, or each namespace. */
function decorators (jwt: unknown): Array<[string, JwtDecorator]> {
  // Another plugin (or the app) may have decorated `jwt` with anything.
  if (typeof jwt !== 'object' || jwt === null) return []
  if (typeof (jwt as Partial<JwtDecorator>).verify === 'function') return [['fastify.jwt', jwt as JwtDecorator]]
  return Object.entries(jwt as Record<string, Partial<JwtDecorator> | null>)
    .filter((entry): entry is [string, JwtDecorator] => typeof entry[1]?.verify === 'function')
    .map(([namespace, decorator]) => [`fastify.jwt.${namespace}`, decorator])
}

/**
 * Whether `decorator` accepts the signature of `probe`, a token this plugin signed: the one
 * comparison of keys that needs neither the host's key (@fastify/jwt does not expose it) nor
 * to log anything of ours. An error that is not fast-jwt's, or no answer in time, says nothing.
 */
async function acceptsSignature (decorator: JwtDecorator, probe: string): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined
  const late = new Promise<false>((resolve) => { timer = setTimeout(resolve, PROBE_TIMEOUT_MS, false).unref() })
  const verified = (async () => {
    try {
      await decorator.verify(probe)
      return true
    } catch (error) {
      const code = (error as { code?: unknown } | null)?.code
      return typeof code === 'string' && code.startsWith('FAST_JWT_') && !SIGNATURE_REFUSED.has(code)
    }
  })()
  try {
    return await Promise.race([verified, late])
  } finally {
    clearTimeout(timer)
  }
}

/**
 * Warns, once per decorator, when the app's own @fastify/jwt (registered before this plugin)
 * verifies with this plugin's key: its `request.jwtVerify()` and `verify()` then accept this
 * plugin's tokens without the revocation store or the session checks, so a logged-out token
 * passes there, and its `sign()` can mint tokens with any claims. A warning, not a refusal:
 * an app may share the key on purpose for tokens of its own, and refusing would stop it at
 * start after an upgrade; the warning names the risk and the fix.
 *
 * `signProbe` signs a short-lived token with this plugin's signing key; a verify-only plugin
 * (public keys, or a JWKS URL) has none, and nothing is compared.
 */
export async function warnIfHostSharesKey (fastify: FastifyInstance, signProbe: ((payload: Record<string, unknown>) => string) | undefined): Promise<void> {
  if (signProbe === undefined) return
  const now = Math.floor(Date.now() / 1000)
  const probe = signProbe({ sub: 'fastify-jwt-session:key-check', iat: now, exp: now + 60 })
  for (const [name, decorator] of decorators(fastify.jwt)) {
    if (!await acceptsSignature(decorator, probe)) continue
    fastify.log.warn(`fastify-jwt-session: the app's own @fastify/jwt (${name}) verifies with this plugin's key: its request.jwtVerify() and verify() accept this plugin's tokens without the revocation store or the session checks (a logged-out or retired token passes there), and its sign() can mint tokens this plugin accepts; authenticate such routes with request.authenticate() or fastify.authenticate, and give @fastify/jwt a key of its own (or do not register it: this plugin then offers it, revocation-aware)`)
  }
}
