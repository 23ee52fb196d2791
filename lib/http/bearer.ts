import { BadRequestError, NoTokenError } from '../errors'

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
