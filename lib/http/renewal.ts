import type { FastifyRequest } from 'fastify'
import type { TokenService } from '../jwt/token-service'
import type { Revocations } from '../sessions/revocations'
import { extractBearerToken } from './bearer'
import type { CookieTransport } from './cookies'

/** The renew route's own authentication, as an `onRequest` hook. */
export type RenewalCheck = (request: FastifyRequest) => Promise<void>

/**
 * Authenticates a renewal: the token comes as for `authenticate` (the header, else in cookie
 * mode the cookie with its CSRF token), but an expired one is accepted until
 * `exp + idleTimeout`, and a token of a retired generation is not refused here: the store
 * tells a renewal within the grace from a replay, after `loadUser`. Sets `request.user`.
 */
export function createRenewalCheck (tokens: TokenService, revocations: Revocations, cookie?: CookieTransport): RenewalCheck {
  return async function renewalCheck (request: FastifyRequest): Promise<void> {
    const header = request.headers.authorization
    let claims
    if (header === undefined && cookie !== undefined) {
      claims = await tokens.verifyForRenewal(cookie.tokenOf(request))
      cookie.checkCsrf(request, claims)
    } else {
      claims = await tokens.verifyForRenewal(extractBearerToken(header))
    }
    await revocations.checkRenewable(claims)
    request.user = claims
  }
}
