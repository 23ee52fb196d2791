import { test } from 'tap'
import { createPublicKey } from 'node:crypto'
import { jwkThumbprint, keyFingerprints, secretFingerprint } from '../lib/jwt/key-fingerprint'
import { resolveKeys } from '../lib/options/keys'
import { SECRET } from './helpers'
import { pair, signingKey, verifyingKey } from './key-pairs'

/** RFC 7638 §3.1: the example RSA key and its thumbprint. */
const RFC_7638_KEY = {
  kty: 'RSA',
  n: '0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw',
  e: 'AQAB',
  alg: 'RS256',
  kid: '2011-04-29'
}

test('a key\'s fingerprint is its RFC 7638 JWK thumbprint, whatever else its JWK carries', async (t) => {
  t.equal(jwkThumbprint(createPublicKey({ key: RFC_7638_KEY, format: 'jwk' })), 'NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs')
  for (const kind of ['p256', 'ed25519', 'rsa2048'] as const) {
    const { publicObject, privateObject } = pair(kind)
    t.equal(jwkThumbprint(publicObject), jwkThumbprint(createPublicKey(privateObject)), `${kind}: the public half of the private key gives the same`)
    t.match(jwkThumbprint(publicObject), /^[\w-]{43}$/, `${kind}: SHA-256, base64url`)
  }
  t.not(jwkThumbprint(pair('p256').publicObject), jwkThumbprint(pair('p256b').publicObject), 'two keys, two fingerprints')
})

test('a secret\'s fingerprint is 128 bits of an HMAC: stable, distinct, and not the secret', async (t) => {
  const fingerprint = secretFingerprint(Buffer.from(SECRET))
  t.match(fingerprint, /^[\w-]{22}$/)
  t.equal(secretFingerprint(Buffer.from(SECRET)), fingerprint, 'every instance finds the same')
  t.not(secretFingerprint(Buffer.from(`${SECRET}!`)), fingerprint)
  t.notMatch(fingerprint, Buffer.from(SECRET).toString('base64url').slice(0, 8))
  t.same(keyFingerprints({ kind: 'secret', secret: Buffer.from(SECRET), algorithm: 'HS256' }), [fingerprint])
})

test('an app that signs has one fingerprint per key (rotation keys too); one that only verifies has none', async (t) => {
  const rotating = resolveKeys([signingKey('ES256', 'new'), verifyingKey('EdDSA', 'old')])
  t.same(keyFingerprints({ kind: 'keys', keys: rotating }), rotating.map((key) => jwkThumbprint(key.publicKey)))
  t.same(keyFingerprints({ kind: 'keys', keys: resolveKeys([verifyingKey('ES256')]) }), [], 'public keys only: verify-only')
})
