import { InvalidTokenError, KeysUnavailableError } from '../errors'
import { PartState } from '../ops/health'
import { ASYMMETRIC_ALGORITHMS } from '../options/defaults'
import type { ResolvedJwks, ResolvedOptions } from '../options/resolved'
import { jwkKey, type JwkKey } from './jwk-key'
import { fetchJwks } from './jwks-fetch'
import { tokenHeader, type Keyring } from './keyring'
import { createStrictVerifier, type Verifier } from './validity'

/** One key of the last document, and its verifier (the JWK's algorithms only). */
interface Known {
  readonly jwk: JwkKey
  readonly verify: Verifier
}

/** Whether two keys of the same kid are the same key for the same algorithms. */
function sameKey (a: JwkKey, b: JwkKey): boolean {
  return a.key.equals(b.key) && a.algorithms.join() === b.algorithms.join()
}

/**
 * The keyring of a verify-only service that trusts another service's JWKS document.
 *
 * The whole last document is kept, keyed by kid, each key with the algorithms its JWK allows;
 * nothing a token says (its `alg`, a kid it makes up) changes what the keyring holds, so a
 * forged header can neither pin an algorithm nor mark a real kid absent. A kid the document
 * holds is answered at once; one it does not hold is answered from the document (401), and
 * makes the service fetch the document again at most once per `refetchInterval`, so made-up
 * kids cannot make it hammer the issuer, while a newly published key is picked up by the next
 * fetch. An empty key set means "no keys" (401); a document that cannot be fetched or read
 * means "cannot tell" (503, fail closed) until one can, and the last good document goes on
 * serving meanwhile. After `maxAge` the document is fetched again in the background; a key
 * that left it stops verifying, and `trusts` tells the verified-token cache to drop the
 * tokens it verified.
 */
export function createRemoteKeyring (jwks: ResolvedJwks, options: ResolvedOptions): Keyring {
  let known = new Map<string, Known>()
  let current = new Set<Verifier>()
  /** Whether a document was ever read, and whether the last attempt failed (and why). */
  let loaded = false
  let failure: unknown
  let fetchedAt = -Infinity
  let attemptedAt = -Infinity
  let pending: Promise<void> | undefined
  // For health() and the store channel: never fetched (503s), fetched, or the last fetch failed.
  const state = new PartState('keys', 'pending')

  /** The keys of `jwks`, keeping the verifier of a key that did not change; a kid given twice is ambiguous and dropped. */
  function readDocument (keys: readonly unknown[]): Map<string, Known> {
    const next = new Map<string, Known>()
    const ambiguous = new Set<string>()
    for (const entry of keys) {
      const jwk = jwkKey(entry)
      if (jwk === undefined) continue
      if (next.has(jwk.kid)) ambiguous.add(jwk.kid)
      const before = known.get(jwk.kid)
      next.set(jwk.kid, before !== undefined && sameKey(before.jwk, jwk)
        ? before
        : { jwk, verify: createStrictVerifier(jwk.key.export({ type: 'spki', format: 'pem' }) as string, jwk.algorithms, options) })
    }
    for (const kid of ambiguous) next.delete(kid)
    return next
  }

  async function refresh (): Promise<void> {
    attemptedAt = Date.now()
    try {
      known = readDocument(await fetchJwks(jwks.url, jwks.timeout))
      current = new Set([...known.values()].map((entry) => entry.verify))
      loaded = true
      failure = undefined
      fetchedAt = Date.now()
      state.set('fetched')
    } catch (error) {
      failure = error
      // With a document in hand the keys still serve; without one, requests answer 503.
      if (loaded) state.set('failed')
    }
  }

  /** One fetch at a time; every request waiting for it shares the answer. */
  function refreshOnce (): Promise<void> {
    pending ??= refresh().finally(() => { pending = undefined })
    return pending
  }

  /** Starts a background refresh of a document older than `maxAge`; the one in hand serves meanwhile. */
  function refreshIfStale (now: number): void {
    if (now - fetchedAt > jwks.maxAge && now - attemptedAt >= jwks.refetchInterval) void refreshOnce()
  }

  /** The verifier of `kid` in the document, or why there is none. */
  function lookup (kid: string): Verifier {
    const entry = known.get(kid)
    if (entry !== undefined) return entry.verify
    // With no document, or one that may be out of date, a missing kid may be a real new key.
    if (!loaded || failure !== undefined) throw new KeysUnavailableError({ cause: failure })
    throw new InvalidTokenError()
  }

  return {
    sign: undefined,
    jwks: undefined,
    health () {
      // A readiness probe must not wait for a token that cannot come while the app is unready: asking fetches.
      if (!loaded && Date.now() - attemptedAt >= jwks.refetchInterval) void refreshOnce()
      return state.health
    },
    trusts (verify) {
      // Cached tokens never reach verifierFor: their hits keep the document fresh too.
      refreshIfStale(Date.now())
      return current.has(verify)
    },
    verifierFor (token) {
      const { kid, alg } = tokenHeader(token)
      if (typeof kid !== 'string' || !(ASYMMETRIC_ALGORITHMS as readonly unknown[]).includes(alg)) throw new InvalidTokenError()
      const now = Date.now()
      const due = now - attemptedAt >= jwks.refetchInterval
      const entry = known.get(kid)
      if (entry !== undefined) {
        refreshIfStale(now)
        return entry.verify
      }
      if (pending !== undefined || due) return refreshOnce().then(() => lookup(kid))
      return lookup(kid)
    }
  }
}
