import fastifyJwt, { type FastifyJWTOptions } from '@fastify/jwt'
import type { FastifyInstance, FastifyRequest } from 'fastify'
import { InvalidTokenError } from '../errors'
import { tokenHeader } from '../jwt/keyring'
import type { ResolvedKey } from '../options/keys'
import type { ResolvedOptions } from '../options/resolved'
import type { SessionClaims } from '../types'
import type { Authenticator } from './authenticate'

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

/** @fastify/jwt's options for this plugin's keys and claims, or undefined in JWKS mode. */
function fastifyJwtOptions (fastify: FastifyInstance, options: ResolvedOptions): FastifyJWTOptions | undefined {
  const { keySource, issuer, audience } = options
  if (keySource.kind === 'jwks') return undefined
  const claims = {
    ...(issuer === undefined ? undefined : { iss: issuer }),
    ...(audience === undefined ? undefined : { aud: audience })
  }
  // fast-jwt counts durations in milliseconds.
  const verify = { allowedIss: issuer, allowedAud: audience, clockTolerance: options.clockTolerance * 1000 }
  // In cookie mode @fastify/jwt looks for the token in the same cookie (after the header).
  const cookie = options.cookie === false ? undefined : { cookie: { cookieName: options.cookie.name, signed: false } }
  if (keySource.kind === 'secret') {
    return {
      ...cookie,
      secret: keySource.secret,
      sign: { algorithm: keySource.algorithm, expiresIn: options.expiresIn * 1000, ...claims },
      verify: { ...verify, algorithms: [keySource.algorithm] }
    }
  }
  const signing = keySource.keys.find((key) => key.privateKey !== undefined)
  return {
    ...cookie,
    secret: {
      private: signing?.privateKey?.export({ type: 'pkcs8', format: 'pem' }) as string,
      public: keyChooser(publicPems(keySource.keys), (request) => fastify.jwt.lookupToken(request))
    },
    sign: signing === undefined ? {} : { algorithm: signing.algorithm, kid: signing.kid, expiresIn: options.expiresIn * 1000, ...claims },
    verify: { ...verify, algorithms: [...new Set(keySource.keys.map((key) => key.algorithm))] }
  } as unknown as FastifyJWTOptions
}

/**
 * For an app moving from @fastify/jwt: unless the host registered @fastify/jwt itself, it is
 * registered here with this plugin's keys, so `fastify.jwt.sign/verify/decode` and
 * `request.jwtVerify()` keep working. `request.jwtVerify()` then also runs this plugin's own
 * checks (claims, typ, lifetime) and the revocation store, through @fastify/jwt's `trusted`
 * option: a revoked token answers this plugin's 401, a store outage its 503. `request.user`
 * is then this plugin's frozen claims, as after `authenticate`, not @fastify/jwt's own copy.
 */
export async function offerFastifyJwt (fastify: FastifyInstance, options: ResolvedOptions, authenticator: Authenticator): Promise<void> {
  if (fastify.hasDecorator('jwt')) return
  const jwtOptions = fastifyJwtOptions(fastify, options)
  if (jwtOptions === undefined) return
  // @fastify/jwt hands the payload it verified to `trusted`, then the same object to `formatUser`.
  const claimsOf = new WeakMap<object, SessionClaims>()
  await fastify.register(fastifyJwt, {
    ...jwtOptions,
    async trusted (request: FastifyRequest, payload: object) {
      claimsOf.set(payload, await authenticator.authenticate(request))
      return true
    },
    formatUser: (payload) => claimsOf.get(payload as object) as SessionClaims
  })
}
