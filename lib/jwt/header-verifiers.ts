import type { Keyring } from './keyring'
import type { Verifier } from './validity'

/**
 * The verifier a token's header segment chose, remembered for headers that verified, so that
 * a keyring that picks its verifier by the header's `kid` (configured keys, a remote JWKS)
 * does not decode the same base64url JSON on every new token. A service's tokens share a
 * handful of headers (one per key), each the same string every time.
 *
 * The choice a keyring makes is a function of that exact string and of the keys it holds: the
 * string is the key here, and the keys are asked again on every use (`Keyring.trusts`), so the
 * answer is the one the keyring would give. It only chooses which key to try: the verifier
 * then checks the whole token, header included, as before. An unknown string goes the
 * keyring's way; only a header whose token verified is remembered, so tokens made up by a
 * client cannot fill the table.
 */
export interface HeaderVerifiers {
  /** The verifier remembered for `token`'s header segment, when the keyring still trusts it; else undefined. */
  get (token: string): Verifier | undefined
  /** Remembers `verifier` for `token`'s header segment, once `verifier` has accepted `token`. */
  remember (token: string, verifier: Verifier): void
}

/** Headers remembered at most: a service has one per key; a table that fills is emptied (keys rotated). */
const MAX_HEADERS = 64

/** The segment a keyring decodes to choose the verifier: up to the first dot, as `tokenHeader` reads it. */
function headerSegment (token: string): string {
  return token.slice(0, token.indexOf('.'))
}

/** The remembered verifiers of `keyring`'s tokens' headers. */
export function createHeaderVerifiers (keyring: Keyring): HeaderVerifiers {
  const byHeader = new Map<string, Verifier>()
  return {
    get (token) {
      const verifier = byHeader.get(headerSegment(token))
      // A key that left a remote JWKS is no longer trusted: its header goes the keyring's way again.
      return verifier !== undefined && keyring.trusts(verifier) ? verifier : undefined
    },
    remember (token, verifier) {
      if (byHeader.size >= MAX_HEADERS) byHeader.clear()
      byHeader.set(headerSegment(token), verifier)
    }
  }
}
