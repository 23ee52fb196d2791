import { createPublicKey } from 'node:crypto'
import buildGetJwks from 'get-jwks'
import { LruMap } from 'toad-cache'
import { InvalidTokenError, KeysUnavailableError } from '../errors'
import { ASYMMETRIC_ALGORITHMS } from '../options/defaults'
import type { ResolvedJwks, ResolvedOptions } from '../options/resolved'
import { tokenHeader, type Keyring } from './keyring'
import { keyMismatch } from '../options/keys'
import { createStrictVerifier, type Verifier } from './validity'

/** A key fetched from the issuer's JWKS, and when. */
interface FetchedKey {
  readonly verify: Verifier
  readonly fetchedAt: number
}

/** get-jwks' answer for "the issuer publishes no such key"; every other failure means "cannot tell now". */
const JWK_NOT_FOUND = 'JWK_NOT_FOUND'

/** Kids the issuer was asked about and does not publish, remembered for `refetchInterval`. */
const ABSENT_KIDS_REMEMBERED = 1000

/**
 * The keyring of a verify-only service that trusts another service's JWKS document.
 *
 * Keys are fetched with get-jwks when a token names a `kid` not seen yet, and kept for
 * `maxAge`; after that the old key goes on serving while a fresh copy is fetched. Fetches
 * for unknown kids are at most one per `refetchInterval`, so tokens with made-up kids cannot
 * make this service hammer the issuer. A kid the issuer said it does not publish is refused
 * (401) for that interval; a kid that cannot be asked about yet gets 503, as when the issuer
 * is unreachable: the token may well be good, so the client should retry, not log out. Each fetch has its own `AbortSignal.timeout`: Node's
 * fetch ignores get-jwks' `timeout` option, and an issuer that never answers must give a 503,
 * not a hang. A JWKS that cannot be fetched gives 503 (fail closed); the next request after
 * the issuer is back fetches again.
 */
export function createRemoteKeyring (jwks: ResolvedJwks, options: ResolvedOptions): Keyring {
  const url = new URL(jwks.url)
  const domain = url.origin
  const jwksPath = `${url.pathname}${url.search}`
  const keys = new Map<string, FetchedKey>()
  const pending = new Map<string, Promise<Verifier>>()
  const absent = new LruMap<number>(ABSENT_KIDS_REMEMBERED)
  let lastFetchAt = -Infinity

  async function fetchKey (kid: string, alg: string): Promise<Verifier> {
    lastFetchAt = Date.now()
    const getJwks = buildGetJwks({ jwksPath, fetchOptions: { signal: AbortSignal.timeout(jwks.timeout) } })
    let jwk
    try {
      jwk = await getJwks.getJwk({ domain, alg, kid })
    } catch (error) {
      if ((error as { code?: unknown }).code === JWK_NOT_FOUND) {
        keys.delete(kid)
        absent.set(kid, Date.now())
        throw new InvalidTokenError()
      }
      throw new KeysUnavailableError({ cause: error })
    }
    let verify: Verifier
    try {
      if (jwk.use !== undefined && jwk.use !== 'sig') throw new TypeError(`the key is for "${jwk.use}", not signatures`)
      const key = createPublicKey({ key: jwk as never, format: 'jwk' })
      const mismatch = keyMismatch(key, alg)
      if (mismatch !== undefined) throw new TypeError(mismatch)
      verify = createStrictVerifier(key.export({ type: 'spki', format: 'pem' }) as string, alg, options)
    } catch {
      // The issuer publishes this kid, but not as a key that can verify this token.
      throw new InvalidTokenError()
    }
    keys.set(kid, { verify, fetchedAt: Date.now() })
    return verify
  }

  /** One fetch at a time per kid; concurrent requests for it share the answer. */
  function fetchOnce (kid: string, alg: string): Promise<Verifier> {
    let fetching = pending.get(kid)
    if (fetching === undefined) {
      fetching = fetchKey(kid, alg).finally(() => pending.delete(kid))
      pending.set(kid, fetching)
    }
    return fetching
  }

  return {
    sign: undefined,
    jwks: undefined,
    verifierFor (token) {
      const { kid, alg } = tokenHeader(token)
      if (typeof kid !== 'string' || !(ASYMMETRIC_ALGORITHMS as readonly unknown[]).includes(alg)) throw new InvalidTokenError()
      const now = Date.now()
      const known = keys.get(kid)
      if (known === undefined) {
        if (now - (absent.get(kid) ?? -Infinity) < jwks.refetchInterval) throw new InvalidTokenError()
        if (now - lastFetchAt < jwks.refetchInterval && !pending.has(kid)) {
          throw new KeysUnavailableError({ cause: new Error(`kid "${kid}" cannot be looked up before the refetch interval has passed`) })
        }
        return fetchOnce(kid, alg as string)
      }
      if (now - known.fetchedAt > jwks.maxAge && !pending.has(kid)) {
        // Refreshed in the background; the known key serves meanwhile, and on an error.
        fetchOnce(kid, alg as string).catch(() => undefined)
      }
      return known.verify
    }
  }
}
