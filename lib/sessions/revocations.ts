import { LogoutUnsupportedError, RevokedTokenError, StoreUnavailableError } from '../errors'
import type { VerifiedToken } from '../jwt/token-service'
import type { ResolvedOptions } from '../options/resolved'
import type { RevocationStore, SessionClaims } from '../types'
import { revocationKey } from './revocation-keys'
import { callStore, isThenable, withTimeout } from './store-calls'

/**
 * The plugin's side of the revocation store: what to revoke, and the fail-closed rules.
 * Without a store nothing is revoked, and every revoke rejects with 501.
 */
export interface Revocations {
  /** Throws (or rejects with) the documented error when the token is revoked or the store fails. */
  check (token: VerifiedToken): void | Promise<void>
  /** Revokes one token; answers `false` when it was revoked already (another renewal won). */
  revokeToken (claims: SessionClaims): Promise<boolean>
  /** Revokes every token of the token's session issued until now. */
  revokeSession (claims: SessionClaims): Promise<void>
  /** Revokes every token of `sub` issued until now. */
  revokeSubject (sub: string): Promise<void>
}

/** Revoked when a key's cut-off reaches the token's `iat`; an answer that is not a number fails closed. */
function judge (cutoff: number | undefined | null, iat: number): void {
  if (cutoff === undefined || cutoff === null) return
  if (typeof cutoff !== 'number' || Number.isNaN(cutoff)) {
    throw new StoreUnavailableError({ cause: new TypeError(`the store answered ${typeof cutoff} for a cut-off`) })
  }
  if (cutoff >= iat) throw new RevokedTokenError()
}

const cannotRevoke = async (): Promise<never> => { throw new LogoutUnsupportedError() }

/** Without a store nothing is revoked, and nothing can be. */
const WITHOUT_STORE: Revocations = Object.freeze({
  check: () => undefined,
  revokeToken: cannotRevoke,
  revokeSession: cannotRevoke,
  revokeSubject: cannotRevoke
})

/** Binds the plugin's revocation rules to the configured store, if any. */
export function createRevocations (options: ResolvedOptions): Revocations {
  const { revocationStore, storeTimeout, clockTolerance, expiresIn } = options
  if (revocationStore === undefined) return WITHOUT_STORE
  const store: RevocationStore = revocationStore

  async function revoke (key: string, cutoff: number, expiresAt: number): Promise<boolean> {
    const revoked = await callStore(() => store.revoke(key, cutoff, expiresAt), storeTimeout)
    if (typeof revoked !== 'boolean') {
      throw new StoreUnavailableError({ cause: new TypeError(`the store's revoke() answered ${typeof revoked}, not a boolean`) })
    }
    return revoked
  }

  /** Revokes, under `key`, every token issued until now (or until `notBefore`, if later). */
  async function revokeIssuedUntilNow (key: string, notBefore: number): Promise<void> {
    const cutoff = Math.max(Math.floor(Date.now() / 1000), notBefore)
    // The entry is needed until the last token it blocks has expired, leeway included.
    await revoke(key, cutoff, cutoff + expiresIn + clockTolerance)
  }

  return Object.freeze({
    // On every request: a synchronous store (the memory store, the Redis mirror) costs no
    // closure, no promise and no timer here.
    check (token: VerifiedToken): void | Promise<void> {
      let cutoff: ReturnType<RevocationStore['cutoff']>
      try {
        cutoff = store.cutoff(token.revocationKeys)
      } catch (cause) {
        throw new StoreUnavailableError({ cause })
      }
      const iat = token.claims.iat
      if (!isThenable(cutoff)) return judge(cutoff, iat)
      return withTimeout(cutoff, storeTimeout).then((value) => judge(value, iat))
    },
    revokeToken: (claims: SessionClaims) => revoke(revocationKey('jti', claims.jti), claims.iat, claims.exp + clockTolerance),
    revokeSession: (claims: SessionClaims) => revokeIssuedUntilNow(revocationKey('sid', claims.sid), claims.iat),
    revokeSubject: (sub: string) => revokeIssuedUntilNow(revocationKey('sub', sub), 0)
  })
}
