import fastifyJwt, { type FastifyJWTOptions } from '@fastify/jwt'
import { createSigner, type Algorithm } from 'fast-jwt'
import type { FastifyInstance, FastifyRequest } from 'fastify'
import { InvalidTokenError } from '../errors'
import { tokenHeader } from '../jwt/keyring'
import type { ResolvedKey } from '../options/keys'
import type { ResolvedOptions } from '../options/resolved'
import type { SessionClaims } from '../types'
import type { Authenticator } from './authenticate'
import { warnIfHostSharesKey } from './host-fastify-jwt'

/** Public keys as PEM, by `kid`: @fastify/jwt (through fast-jwt) takes keys as strings. */
function publicPems (keys: readonly ResolvedKey[]): Map<string, string> {
  return new Map(keys.map((key) => [key.kid, key.publicKey.export({ type: 'spki', format: 'pem' }) as string]))
}

/**
 * The public key for a token, chosen by its `kid` among the configured keys only. @fastify/jwt
 * calls it with `(request, payload)` from `request.jwtVerify()` and fast-jwt with the decoded
 * token from `fastify.jwt.verify()`: the token's header is read from whichever it got.
 */
function keyChooser (pems: Map<string, string>, lookupToken: (request: FastifyRequest) => string) {
  return async function publicKeyFor (first: { header: { kid?: unknown } } | FastifyRequest): Promise<string> {
    const kid = 'header' in first ? first.header.kid : tokenHeader(lookupToken(first)).kid
    const pem = typeof kid === 'string' ? pems.get(kid) : undefined
    if (pem === undefined) throw new InvalidTokenError()
    return pem
  }
}

/**
 * The claims that make a token a session of this plugin. @fastify/jwt signs what it is given:
 * `fastify.jwt.sign({ ...request.body })` would let a client choose them.
 */
const SESSION_CLAIMS = ['sid', 'gen', 'auth_us', 'auth_time'] as const

/** The TypeError for a payload that carries session claims, or undefined for any other payload. */
function sessionClaimsError (payload: unknown): TypeError | undefined {
  if (typeof payload !== 'object' || payload === null) return undefined
  const found = SESSION_CLAIMS.filter((claim) => Object.hasOwn(payload, claim))
  if (found.length === 0) return undefined
  return new TypeError(`fastify.jwt.sign() and reply.jwtSign() sign no session, and refuse a payload with the session claims ${found.join(', ')}: sign a session with fastify.jwtAuth.sign(user)`)
}

/** The key that signs, as fast-jwt takes it, with its algorithm and `kid`; undefined for a verify-only service. */
interface SigningKey { key: string | Buffer, algorithm: Algorithm, kid?: string }

/** This plugin's signing key, or undefined when none signs (public keys only, or a JWKS URL). */
function signingKeyOf ({ keySource }: ResolvedOptions): SigningKey | undefined {
  if (keySource.kind === 'secret') return { key: keySource.secret, algorithm: keySource.algorithm }
  if (keySource.kind === 'jwks') return undefined
  const signing = keySource.keys.find((key) => key.privateKey !== undefined)
  if (signing === undefined) return undefined
  return { key: signing.privateKey?.export({ type: 'pkcs8', format: 'pem' }) as string, algorithm: signing.algorithm, kid: signing.kid }
}

/**
 * The signing half of @fastify/jwt's `secret`: `reply.jwtSign()` asks it for the key with the
 * payload, the one place @fastify/jwt lets a payload be refused before it is signed. The key
 * itself also goes in the `sign` options, so that `fastify.jwt.sign()` keeps a synchronous
 * signer (a function as its key would make fast-jwt's signer asynchronous).
 */
function refusingSessionClaims (key: string | Buffer) {
  return function signingKeyFor (_request: FastifyRequest, payload: unknown, callback: (error: Error | null, key?: string | Buffer) => void): void {
    const error = sessionClaimsError(payload)
    if (error === undefined) callback(null, key)
    else callback(error)
  }
}

/** @fastify/jwt's options for this plugin's keys and claims, or undefined in JWKS mode. */
function fastifyJwtOptions (fastify: FastifyInstance, options: ResolvedOptions, signing: SigningKey | undefined): FastifyJWTOptions | undefined {
  const { keySource, issuer, audience } = options
  if (keySource.kind === 'jwks') return undefined
  const claims = {
    ...(issuer === undefined ? undefined : { iss: issuer }),
    ...(audience === undefined ? undefined : { aud: audience })
  }
  // @fastify/jwt takes a number for `expiresIn` as seconds (it converts it to fast-jwt's
  // milliseconds itself), but passes `clockTolerance` to fast-jwt as it is: milliseconds.
  const verify = { allowedIss: issuer, allowedAud: audience, clockTolerance: options.clockTolerance * 1000 }
  const sign = signing === undefined ? {} : { ...signing, expiresIn: options.expiresIn, ...claims }
  // In cookie mode @fastify/jwt looks for the token in the same cookie (after the header).
  const cookie = options.cookie === false ? undefined : { cookie: { cookieName: options.cookie.name, signed: false } }
  const secret = {
    private: signing === undefined ? undefined : refusingSessionClaims(signing.key),
    public: keySource.kind === 'secret'
      ? keySource.secret
      : keyChooser(publicPems(keySource.keys), (request) => fastify.jwt.lookupToken(request))
  }
  const algorithms = keySource.kind === 'secret' ? [keySource.algorithm] : [...new Set(keySource.keys.map((key) => key.algorithm))]
  return { ...cookie, secret, sign, verify: { ...verify, algorithms } } as unknown as FastifyJWTOptions
}

/** The @fastify/jwt `sign` decorator's arguments: a payload, then options or a callback, then a callback. */
type Sign = (payload: unknown, options?: unknown, callback?: unknown) => unknown

/**
 * Wraps `fastify.jwt.sign` so that it refuses the session claims as `reply.jwtSign()` does:
 * thrown, or handed to the callback when there is one, as @fastify/jwt does with its errors.
 */
function guardSign (jwt: { sign: Sign }): void {
  const sign = jwt.sign
  jwt.sign = function guardedSign (payload, options, callback) {
    const error = sessionClaimsError(payload)
    if (error === undefined) return sign(payload, options, callback)
    const done = typeof options === 'function' ? options : callback
    if (typeof done !== 'function') throw error
    done(error)
  }
}

/**
 * For an app moving from @fastify/jwt: unless the host registered @fastify/jwt itself, it is
 * registered here with this plugin's keys, so `fastify.jwt.sign/verify/decode` and
 * `request.jwtVerify()` keep working. `request.jwtVerify()` then also runs this plugin's own
 * checks (claims, typ, lifetime) and the revocation store, through @fastify/jwt's `trusted`
 * option: a revoked token answers this plugin's 401, a store outage its 503. `request.user`
 * is then this plugin's frozen claims, as after `authenticate`, not @fastify/jwt's own copy.
 * Its `sign()` and `reply.jwtSign()` sign tokens of `expiresIn`, and refuse session claims.
 * A host that registered @fastify/jwt itself is warned if it verifies with this plugin's key.
 */
export async function offerFastifyJwt (fastify: FastifyInstance, options: ResolvedOptions, authenticator: Authenticator): Promise<void> {
  const signing = signingKeyOf(options)
  if (fastify.hasDecorator('jwt')) {
    await warnIfHostSharesKey(fastify, signing === undefined ? undefined : createSigner(signing))
    return
  }
  const jwtOptions = fastifyJwtOptions(fastify, options, signing)
  if (jwtOptions === undefined) return
  // @fastify/jwt hands the payload it verified to `trusted`, then the same object to
  // `formatUser`, in the same request. That payload is decoded afresh by each verification
  // (no fast-jwt cache is configured, and options given to jwtVerify() get a verifier of
  // their own), so an entry never serves another request; it is taken once, all the same.
  const claimsOf = new WeakMap<object, SessionClaims>()
  await fastify.register(fastifyJwt, {
    ...jwtOptions,
    async trusted (request: FastifyRequest, payload: object) {
      claimsOf.set(payload, await authenticator.authenticate(request))
      return true
    },
    formatUser (payload) {
      const claims = claimsOf.get(payload as object) as SessionClaims
      claimsOf.delete(payload as object)
      return claims
    }
  })
  // @fastify/jwt shows its `sign` options as `fastify.jwt.options.sign`, and keeps a copy of
  // its own: the key is no business of code that reads the options.
  delete (jwtOptions.sign as { key?: unknown }).key
  guardSign(fastify.jwt as unknown as { sign: Sign })
}
