import { generateKeyPairSync, type KeyObject } from 'node:crypto'
import type { JwtKey } from '../lib/index'

/** A real key pair, PEM-encoded. */
export interface Pair {
  privateKey: string
  publicKey: string
  privateObject: KeyObject
  publicObject: KeyObject
}

function pem (pair: { privateKey: KeyObject, publicKey: KeyObject }): Pair {
  return {
    privateKey: pair.privateKey.export({ type: 'pkcs8', format: 'pem' }) as string,
    publicKey: pair.publicKey.export({ type: 'spki', format: 'pem' }) as string,
    privateObject: pair.privateKey,
    publicObject: pair.publicKey
  }
}

const cache = new Map<string, Pair>()

/** A key pair for `kind`, made once per test process. */
export function pair (kind: 'p256' | 'p384' | 'rsa2048' | 'rsa1024' | 'ed25519' | 'ed448' | 'p256b'): Pair {
  let made = cache.get(kind)
  if (made === undefined) {
    switch (kind) {
      case 'p256': case 'p256b': made = pem(generateKeyPairSync('ec', { namedCurve: 'P-256' })); break
      case 'p384': made = pem(generateKeyPairSync('ec', { namedCurve: 'P-384' })); break
      case 'rsa2048': made = pem(generateKeyPairSync('rsa', { modulusLength: 2048 })); break
      case 'rsa1024': made = pem(generateKeyPairSync('rsa', { modulusLength: 1024 })); break
      case 'ed25519': made = pem(generateKeyPairSync('ed25519')); break
      case 'ed448': made = pem(generateKeyPairSync('ed448')); break
    }
    cache.set(kind, made)
  }
  return made
}

/** The key pair each supported algorithm uses in the tests. */
export const PAIR_FOR = { ES256: 'p256', RS256: 'rsa2048', PS256: 'rsa2048', EdDSA: 'ed25519' } as const

/** A signing key for `algorithm`, as the `keys` option takes it. */
export function signingKey (algorithm: keyof typeof PAIR_FOR, kid = `${algorithm}-1`): JwtKey {
  const { privateKey, publicKey } = pair(PAIR_FOR[algorithm])
  return { kid, algorithm, privateKey, publicKey }
}

/** The public half only, for a verify-only service or a key kept for rotation. */
export function verifyingKey (algorithm: keyof typeof PAIR_FOR, kid = `${algorithm}-1`): JwtKey {
  return { kid, algorithm, publicKey: pair(PAIR_FOR[algorithm]).publicKey }
}
