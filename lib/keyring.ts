import type { JsonWebKey } from 'node:crypto'
import { createSigner, createVerifier } from 'fast-jwt'
import { InvalidTokenError } from './errors'
import { toPublicJwk } from './keys'
import type { KeySource, ResolvedOptions } from './options'

/** A fast-jwt verifier in `complete` mode: the decoded header and payload, or a throw. */
export type Verifier = (token: string) => { header: Record<string, unknown>, payload: Record<string, unknown> }

/** The keys of this service: what signs, which verifier a token gets, what is published. */
export interface Keyring {
  /** Signs a payload; undefined when no key here signs (a verify-only service). */
  readonly sign: ((payload: Record<string, unknown>) => string) | undefined
  /** The verifier for `token`, chosen by its `kid` among the configured keys only; a promise while keys are fetched. */
  verifierFor (token: string): Verifier | Promise<Verifier>
  /** The JWKS document this service publishes, or undefined. */
  readonly jwks: { keys: JsonWebKey[] } | undefined
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

/**
 * A verifier for one key and one algorithm: its signature, `exp`, `nbf`, and `iss` / `aud`
 * when configured, which fast-jwt would skip were they absent, so they are required here.
 * The token service checks the other claims (presence, types, lifetime, future `iat`).
 */
export function createStrictVerifier (key: string | Buffer, algorithm: string, options: ResolvedOptions): Verifier {
  const requiredClaims: string[] = []
  if (options.issuer !== undefined) requiredClaims.push('iss')
  if (options.audience !== undefined) requiredClaims.push('aud')
  return createVerifier({
    key,
    algorithms: [algorithm as 'HS256'],
    requiredClaims,
    allowedIss: options.issuer,
    allowedAud: options.audience,
    clockTolerance: options.clockTolerance * 1000,
    cache: false,
    complete: true
  })
}

/** The keyring of a `secret` or of configured `keys`; a remote JWKS has its own. */
export function createLocalKeyring (keySource: Exclude<KeySource, { kind: 'jwks' }>, options: ResolvedOptions): Keyring {
  if (keySource.kind === 'secret') {
    const verifier = createStrictVerifier(keySource.secret, keySource.algorithm, options)
    return {
      sign: createSigner({ key: keySource.secret, algorithm: keySource.algorithm }),
      verifierFor: () => verifier,
      jwks: undefined
    }
  }
  const keys = keySource.keys
  const verifiers = new Map(keys.map((key) =>
    [key.kid, createStrictVerifier(key.publicKey.export({ type: 'spki', format: 'pem' }) as string, key.algorithm, options)]))
  const signing = keys.find((key) => key.privateKey !== undefined)
  return {
    sign: signing === undefined
      ? undefined
      : createSigner({ key: signing.privateKey?.export({ type: 'pkcs8', format: 'pem' }) as string, algorithm: signing.algorithm, kid: signing.kid }),
    verifierFor (token: string): Verifier {
      const { kid } = tokenHeader(token)
      const verifier = typeof kid === 'string' ? verifiers.get(kid) : undefined
      if (verifier === undefined) throw new InvalidTokenError()
      return verifier
    },
    jwks: signing === undefined ? undefined : { keys: keys.map(toPublicJwk) }
  }
}
