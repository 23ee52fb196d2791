import type { FastifyRequest } from 'fastify'
import type { TokenService } from '../jwt/token-service'
import type { SessionClaims } from '../types'
import { extractBearerToken } from './bearer'
import type { CookieTransport } from './cookies'

/** The renew route's own authentication, as an `onRequest` hook. */
export type RenewalCheck = (request: FastifyRequest) => Promise<void>

/**
 * Authenticates a renewal: the token comes as for `authenticate` (the header, else in cookie
 * mode the cookie with its CSRF token), but an expired one is accepted until
 * `exp + idleTimeout`. `check` asks the store: for a renewal (`Revocations.checkRenewable`) a
 * token of a retired generation is not refused here, as the store tells a renewal within the
 * grace from a replay, after `loadUser`; a logout of the token's own session
 * (`Revocations.checkEndable`) likewise. Sets `request.user`.
 */
export function createRenewalCheck (tokens: TokenService, check: (claims: SessionClaims) => Promise<void>, cookie?: CookieTransport): RenewalCheck {
  return async function renewalCheck (request: FastifyRequest): Promise<void> {
    const header = request.headers.authorization
    let claims
    if (header === undefined && cookie !== undefined) {
      claims = await tokens.verifyForRenewal(cookie.tokenOf(request))
      cookie.checkCsrf(request, claims)
    } else {
      claims = await tokens.verifyForRenewal(extractBearerToken(header))
    }
    await check(claims)
    request.user = claims
  }
}
