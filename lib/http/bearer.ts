import { BadRequestError, NoTokenError } from '../errors'
import type { TokenService, VerifiedToken } from '../jwt/token-service'

/**
 * `Bearer <b64token>` (RFC 6750 §2.1), the scheme in any case, then one or more spaces.
 * b64token is wider than base64url on purpose: characters it allows but a JWT does not are
 * refused by the verifier as an invalid token, not as a malformed header.
 */
const BEARER_CREDENTIALS = /^[Bb][Ee][Aa][Rr][Ee][Rr] +([A-Za-z0-9\-._~+/]+=*)$/
const BEARER_SCHEME = /^bearer(?: |$)/i

/**
 * The Bearer token of an Authorization header, or the documented error:
 * no header or another scheme is `NO_TOKEN` (401), a malformed Bearer header is
 * `BAD_REQUEST` (400).
 */
export function extractBearerToken (header: string | undefined): string {
  // Node keeps the first of repeated Authorization headers, so this is one string or nothing.
  if (header === undefined || header === '') throw new NoTokenError()
  const match = BEARER_CREDENTIALS.exec(header)
  if (match === null) {
    throw BEARER_SCHEME.test(header) ? new BadRequestError() : new NoTokenError()
  }
  return match[1] as string
}

/**
 * The verified token of an Authorization header, or the documented error. A header spelled
 * `Bearer <token>` with a token the cache holds is answered without the regex: the cache
 * compares the whole header with the one it keeps, and it keeps only tokens the verifier
 * accepted, which are base64url and dots, a spelling the regex accepts too. Anything else is
 * parsed, then verified (a cached token in another spelling is still found by its token).
 */
export function verifyBearer (header: string | undefined, tokens: TokenService): VerifiedToken | Promise<VerifiedToken> {
  return (typeof header === 'string' ? tokens.cached(header) : undefined) ?? tokens.verify(extractBearerToken(header))
}
