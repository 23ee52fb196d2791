import { createSigner } from 'fast-jwt'
import { InvalidTokenError } from '../errors'
import type { KeySource, ResolvedOptions } from '../options/resolved'
import { tokenHeader, type Keyring } from './keyring'
import { toPublicJwk } from './public-jwk'
import { createStrictVerifier, type Verifier } from './validity'

/** Configured keys never change while the service runs. */
const ALWAYS = (): boolean => true

/** The keyring of a `secret` or of configured `keys`; a remote JWKS has its own. */
export function createLocalKeyring (keySource: Exclude<KeySource, { kind: 'jwks' }>, options: ResolvedOptions): Keyring {
  if (keySource.kind === 'secret') {
    const verifier = createStrictVerifier(keySource.secret, [keySource.algorithm], options)
    return {
      sign: createSigner({ key: keySource.secret, algorithm: keySource.algorithm }),
      verifierFor: () => verifier,
      trusts: ALWAYS,
      jwks: undefined
    }
  }
  const keys = keySource.keys
  const verifiers = new Map(keys.map((key) =>
    [key.kid, createStrictVerifier(key.publicKey.export({ type: 'spki', format: 'pem' }) as string, [key.algorithm], options)]))
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
    trusts: ALWAYS,
    jwks: signing === undefined ? undefined : { keys: keys.map(toPublicJwk) }
  }
}
