import { test } from 'tap'
import { createSecretKey, generateKeyPairSync } from 'node:crypto'
import Fastify from 'fastify'
import jwtAuth, { OptionError, type JwtSessionOptions } from '../lib/index'
import { SECRET, verifyCredentials } from './helpers'
import { pair, signingKey, verifyingKey } from './key-pairs'

async function register (t: { teardown (fn: () => unknown): void }, options: unknown): Promise<unknown> {
  const app = Fastify()
  t.teardown(() => app.close())
  return await app.register(jwtAuth, options as JwtSessionOptions).then(() => undefined, (error: unknown) => error)
}

const p256 = pair('p256')
const rsa = pair('rsa2048')

const refused: Array<[string, unknown, RegExp]> = [
  ['secret and keys together', { secret: SECRET, keys: [signingKey('ES256')], verifyCredentials }, /secret and keys cannot be used together: choose one/],
  ['keys and jwks together', { keys: [signingKey('ES256')], jwks: { url: 'https://id.example/jwks.json' } }, /keys and jwks cannot be used together/],
  ['algorithm with keys', { keys: [signingKey('ES256')], algorithm: 'HS256', verifyCredentials }, /algorithm goes with secret only/],
  ['an empty keys array', { keys: [] }, /keys must be a non-empty array/],
  ['keys that are no array', { keys: signingKey('ES256') }, /keys must be a non-empty array/],
  ['a key that is no object', { keys: ['pem'] }, /keys\[0\] must be an object/],
  ['a key with no kid', { keys: [{ algorithm: 'ES256', publicKey: p256.publicKey }] }, /keys\[0\].kid must be a non-empty string/],
  ['a key with an empty kid', { keys: [{ kid: '', algorithm: 'ES256', publicKey: p256.publicKey }] }, /kid must be a non-empty string/],
  ['a duplicate kid', { keys: [signingKey('ES256', 'same'), verifyingKey('EdDSA', 'same')], verifyCredentials }, /kid "same" is used twice/],
  ['an unknown key field', { keys: [{ ...verifyingKey('ES256'), use: 'sig' }] }, /keys\[0\].use is not a known key field/],
  ['an HMAC algorithm for a key', { keys: [{ kid: 'a', algorithm: 'HS256', publicKey: p256.publicKey }] }, /keys\[0\] \(kid "a"\): algorithm must be one of ES256, RS256, PS256, EdDSA, got "HS256"/],
  ['ES384, not supported', { keys: [{ kid: 'a', algorithm: 'ES384', publicKey: pair('p384').publicKey }] }, /algorithm must be one of/],
  ['a P-384 key for ES256', { keys: [{ kid: 'a', algorithm: 'ES256', publicKey: pair('p384').publicKey }] }, /kid "a"\): ES256 needs an EC key on the P-256 curve/],
  ['an RSA key for ES256', { keys: [{ kid: 'a', algorithm: 'ES256', publicKey: rsa.publicKey }] }, /ES256 needs an EC key/],
  ['an EC key for RS256', { keys: [{ kid: 'a', algorithm: 'RS256', publicKey: p256.publicKey }] }, /RS256 needs an RSA key/],
  ['a 1024-bit RSA key for RS256', { keys: [{ kid: 'weak', algorithm: 'RS256', publicKey: pair('rsa1024').publicKey }] }, /kid "weak"\): RS256 needs an RSA key of at least 2048 bits, got 1024/],
  ['a 1024-bit RSA key for PS256', { keys: [{ kid: 'weak', algorithm: 'PS256', publicKey: pair('rsa1024').publicKey }] }, /PS256 needs an RSA key of at least 2048 bits/],
  ['an RSA-PSS-only key for PS256', { keys: [{ kid: 'a', algorithm: 'PS256', publicKey: generateKeyPairSync('rsa-pss', { modulusLength: 2048 }).publicKey }] }, /PS256 needs an RSA key \(an RSA-PSS-only key will not do\)/],
  ['a secret KeyObject as the public key', { keys: [{ kid: 'a', algorithm: 'ES256', publicKey: createSecretKey(Buffer.alloc(32)) }] }, /publicKey must be a PEM public key or a public KeyObject/],
  ['an Ed448 key for EdDSA', { keys: [{ kid: 'a', algorithm: 'EdDSA', publicKey: pair('ed448').publicKey }] }, /EdDSA needs an Ed25519 key/],
  ['a private PEM where the public key belongs', { keys: [{ kid: 'oops', algorithm: 'ES256', publicKey: p256.privateKey }] }, /kid "oops"\).publicKey is a private key: give the public key/],
  ['a private KeyObject where the public key belongs', { keys: [{ kid: 'oops', algorithm: 'ES256', publicKey: p256.privateObject }] }, /publicKey is a private key/],
  ['a public key where the private key belongs', { keys: [{ kid: 'a', algorithm: 'ES256', publicKey: p256.publicKey, privateKey: p256.publicKey }] }, /kid "a"\).privateKey must be a PEM private key or a private KeyObject/],
  ['a public KeyObject as the private key', { keys: [{ kid: 'a', algorithm: 'ES256', publicKey: p256.publicKey, privateKey: p256.publicObject }] }, /privateKey must be a PEM private key/],
  ['a private key that does not match its public key', { keys: [{ kid: 'mixed', algorithm: 'ES256', publicKey: p256.publicKey, privateKey: pair('p256b').privateKey }] }, /kid "mixed"\).privateKey does not match its publicKey/],
  ['a public key that is not a key', { keys: [{ kid: 'a', algorithm: 'ES256', publicKey: 'not a pem' }] }, /publicKey must be a PEM public key or a public KeyObject/],
  ['no public key', { keys: [{ kid: 'a', algorithm: 'ES256', privateKey: p256.privateKey }] }, /publicKey must be a PEM public key/],
  ['jwks that is no object', { jwks: 'https://id.example/jwks.json' }, /jwks must be an object such as \{ url \}/],
  ['jwks with no url', { jwks: {} }, /jwks.url must be an https: URL/],
  ['a jwks url that is not http', { jwks: { url: 'file:///etc/passwd' } }, /jwks.url must be an https: URL/],
  ['a jwks url that is no URL', { jwks: { url: 'id.example/jwks' } }, /jwks.url must be/],
  ['a bad jwks timeout', { jwks: { url: 'https://id.example/jwks.json', timeout: 0 } }, /jwks.timeout must be a positive whole number of milliseconds/],
  ['a bad jwks maxAge', { jwks: { url: 'https://id.example/jwks.json', maxAge: 'later' } }, /jwks.maxAge must be a positive/],
  ['a bad jwks refetchInterval', { jwks: { url: 'https://id.example/jwks.json', refetchInterval: -1 } }, /jwks.refetchInterval must be a positive/],
  ['an unknown jwks field', { jwks: { url: 'https://id.example/jwks.json', jku: true } }, /jwks.jku is not a known jwks option/],
  ['verifyCredentials in verify-only mode', { jwks: { url: 'https://id.example/jwks.json' }, audience: 'orders', verifyCredentials }, /verifyCredentials has no use: this service only verifies tokens/],
  ['loadUser with public keys only', { keys: [verifyingKey('ES256')], loadUser: async () => null }, /loadUser has no use: this service only verifies tokens/],
  ['a login route in verify-only mode', { keys: [verifyingKey('ES256')], routes: { login: '/login' } }, /routes.login cannot be served: this service only verifies tokens/],
  ['a bad route in verify-only mode', { keys: [verifyingKey('ES256')], routes: { signup: '/x' } }, /routes.signup is not a known route/]
]

for (const [name, options, message] of refused) {
  test(`registration refuses ${name}`, async (t) => {
    const error = await register(t, options)
    t.type(error, OptionError)
    t.match((error as Error).message, message)
  })
}

test('registration accepts the verify-only forms', async (t) => {
  for (const options of [
    { jwks: { url: 'https://id.example/.well-known/jwks.json', timeout: 500, maxAge: '1h', refetchInterval: 10 }, audience: 'orders' },
    { keys: [verifyingKey('ES256'), verifyingKey('RS256')] },
    { keys: [verifyingKey('ES256')], routes: false },
    { keys: [verifyingKey('ES256')], routes: { prefix: '/auth', login: false } }
  ]) t.equal(await register(t, options), undefined, JSON.stringify(options).slice(0, 80))
})
