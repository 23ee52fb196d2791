import type { PartHealth } from '../ops/health'
import type { JsonWebKey } from 'node:crypto'
import type { Verifier } from './validity'

/** The keys of this service: what signs, which verifier a token gets, what is published. */
export interface Keyring {
  /** Signs a payload; undefined when no key here signs (a verify-only service). */
  readonly sign: ((payload: Record<string, unknown>) => string) | undefined
  /** The verifier for `token`, chosen by its `kid` among the configured keys only; a promise while keys are fetched. */
  verifierFor (token: string): Verifier | Promise<Verifier>
  /**
   * Whether `verify` is still one of the keyring's verifiers: a verified token cached with a
   * key that has since left the issuer's JWKS is verified anew (and refused).
   */
  trusts (verify: Verifier): boolean
  /** The JWKS document this service publishes, or undefined. */
  readonly jwks: { keys: JsonWebKey[] } | undefined
  /** A remote JWKS's state (`pending`, `fetched`, `failed`) for `health()`; a local keyring has none. */
  health?(): PartHealth
}

/**
 * The `kid` and `alg` a token's header names, or undefined for either when it names none.
 * They only choose a key; the verifier then checks the whole token again, header included.
 */
export function tokenHeader (token: string): { kid: unknown, alg: unknown } {
  try {
    const header = JSON.parse(Buffer.from(token.slice(0, token.indexOf('.')), 'base64url').toString())
    return { kid: header?.kid, alg: header?.alg }
  } catch {
    return { kid: undefined, alg: undefined }
  }
}
