import type { SessionClaims } from '../types'

/**
 * The store key of a kind of revocation: `jti:<id>`, `sid:<id>` or `sub:<id>`. Built with
 * join, which makes a flat string: V8 keeps a template literal's result as a rope, and a
 * store that keeps the key (as the memory store does) would hold ~25 more bytes for it.
 */
export function revocationKey (kind: 'jti' | 'sid' | 'sub', id: string): string {
  return [kind, id].join(':')
}

/** The store key of each way a token can be revoked. */
export function revocationKeys (claims: Pick<SessionClaims, 'jti' | 'sid' | 'sub'>): readonly string[] {
  return Object.freeze([revocationKey('jti', claims.jti), revocationKey('sid', claims.sid), revocationKey('sub', claims.sub)])
}
