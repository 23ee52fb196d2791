import createError, { type FastifyErrorConstructor } from '@fastify/error'

/**
 * Seconds a client is asked to wait (`Retry-After`) when the revocation store or the
 * issuer's keys are unavailable.
 */
const STORE_RETRY_AFTER_SECONDS = 5

/** Headers an error asks Fastify's default error handler to set on the reply. */
type ErrorHeaders = Readonly<Record<string, string>>

/**
 * RFC 6750 §3: a 401 with no credentials carries a bare challenge, a 401 for a bad token
 * carries `error="invalid_token"`, a 400 `invalid_request`, a 403 `insufficient_scope`.
 */
const CHALLENGE_NO_TOKEN: ErrorHeaders = Object.freeze({ 'www-authenticate': 'Bearer' })
const CHALLENGE_BAD_REQUEST: ErrorHeaders = Object.freeze({ 'www-authenticate': 'Bearer error="invalid_request"' })
const CHALLENGE_FORBIDDEN: ErrorHeaders = Object.freeze({ 'www-authenticate': 'Bearer error="insufficient_scope"' })
const RETRY_LATER: ErrorHeaders = Object.freeze({ 'retry-after': String(STORE_RETRY_AFTER_SECONDS) })

function invalidToken (description: string): ErrorHeaders {
  return Object.freeze({ 'www-authenticate': `Bearer error="invalid_token", error_description="${description}"` })
}

/**
 * Builds an error class whose instances carry the headers the status calls for.
 * Fastify's default error handler copies `error.headers` onto the reply; a host that
 * replaces the error handler should do the same (see the README).
 */
function defineError (code: string, message: string, statusCode: number, headers: ErrorHeaders): FastifyErrorConstructor {
  const Base = createError(code, message, statusCode)
  Object.defineProperty(Base.prototype, 'headers', { value: headers, enumerable: false, writable: true })
  return Base
}

/** 401: the request carries no Bearer credentials. */
export const NoTokenError = defineError(
  'FST_JWT_SESSION_NO_TOKEN', 'No Bearer token was found in the Authorization header', 401, CHALLENGE_NO_TOKEN)

/** 400: the Authorization header is malformed (RFC 6750 `invalid_request`). */
export const BadRequestError = defineError(
  'FST_JWT_SESSION_BAD_REQUEST', 'The Authorization header must be "Bearer <token>"', 400, CHALLENGE_BAD_REQUEST)

/** 401: bad signature, bad claims, wrong algorithm or a malformed token. */
export const InvalidTokenError = defineError(
  'FST_JWT_SESSION_INVALID_TOKEN', 'The token is invalid', 401, invalidToken('The token is invalid'))

/** 401: the token has expired. */
export const ExpiredTokenError = defineError(
  'FST_JWT_SESSION_EXPIRED_TOKEN', 'The token has expired', 401, invalidToken('The token has expired'))

/** 401: the token was revoked by a logout or a renewal. */
export const RevokedTokenError = defineError(
  'FST_JWT_SESSION_REVOKED_TOKEN', 'The token has been revoked', 401, invalidToken('The token has been revoked'))

/** 401: a renewal was asked for past `maxSessionAge`; the user must log in again. */
export const SessionTooOldError = defineError(
  'FST_JWT_SESSION_TOO_OLD', 'The session is too old to be renewed; log in again', 401,
  invalidToken('The session is too old to be renewed'))

/** 401: the login was refused; one answer for an unknown login and a wrong password. */
export const InvalidCredentialsError = defineError(
  'FST_JWT_SESSION_INVALID_CREDENTIALS', 'Invalid login or password', 401, CHALLENGE_NO_TOKEN)

/** 403: `requireRoles` refused the user (RFC 6750 `insufficient_scope`). */
export const ForbiddenError = defineError(
  'FST_JWT_SESSION_FORBIDDEN', 'The token does not grant access to this resource', 403, CHALLENGE_FORBIDDEN)

/** 501: logout was asked for but no `revocationStore` is configured. */
export const LogoutUnsupportedError = defineError(
  'FST_JWT_SESSION_LOGOUT_UNSUPPORTED', 'Logout needs a revocation store, and none is configured', 501, {})

/** 503: the revocation store failed or timed out; the request is refused, never let through. */
export const StoreUnavailableError = defineError(
  'FST_JWT_SESSION_STORE_UNAVAILABLE', 'The revocation store is unavailable; try again later', 503, RETRY_LATER)

/** 503: a verify-only service could not fetch the issuer's JWKS; the request is refused. */
export const KeysUnavailableError = defineError(
  'FST_JWT_SESSION_KEYS_UNAVAILABLE', 'The signing keys are unavailable; try again later', 503, RETRY_LATER)

/**
 * 403: a state-changing request authenticated by cookie did not carry the session's CSRF
 * token in its header (cookie mode only).
 */
export const CsrfError = defineError(
  'FST_JWT_SESSION_CSRF', 'A request authenticated by cookie must carry the CSRF token of its session', 403, {})

/**
 * 429: too many failed logins for this login name or from this address. Each instance
 * carries its own `Retry-After`: the seconds until the window that refused it ends.
 */
export const TooManyAttemptsError = defineError(
  'FST_JWT_SESSION_TOO_MANY_ATTEMPTS', 'Too many failed login attempts; try again later', 429, {})

/**
 * 429: a renewal of a session's newest token came less than a second after that generation
 * was reached; a session's generation moves at most once a second. `Retry-After: 1`.
 */
export const RenewTooSoonError = defineError(
  'FST_JWT_SESSION_RENEWED_TOO_SOON', 'The session was renewed less than a second ago; try again shortly', 429,
  Object.freeze({ 'retry-after': '1' }))

/** 404: `DELETE /@sessions/:id` of an id that is not one of the caller's live sessions (one answer for every such id). */
export const SessionNotFoundError = defineError(
  'FST_JWT_SESSION_NOT_FOUND', 'No such session', 404, {})

/**
 * 401: `requireFresh` refused a login older than its `maxAge` (RFC 9470 §3). Each instance
 * carries its own `WWW-Authenticate`, with the `max_age` the route asks for; see {@link insufficientAuthentication}.
 */
export const InsufficientAuthenticationError = defineError(
  'FST_JWT_SESSION_INSUFFICIENT_AUTHENTICATION', 'A more recent login is required; log in again', 401, {})

/** The 401 of `requireFresh(maxAge)`: the RFC 9470 challenge, with the `max_age` (seconds) the route asks for. */
export function insufficientAuthentication (maxAge: number): Error {
  return Object.assign(new InsufficientAuthenticationError(), {
    headers: Object.freeze({
      'www-authenticate': `Bearer error="insufficient_user_authentication", error_description="A more recent login is required", max_age="${maxAge}"`
    })
  })
}

/** A 429 that says how long to wait, in whole seconds, at least one. */
export function tooManyAttempts (retryAfterMs: number): Error {
  return Object.assign(new TooManyAttemptsError(), {
    headers: Object.freeze({ 'retry-after': String(Math.max(1, Math.ceil(retryAfterMs / 1000))) })
  })
}

/**
 * A plain 500 that stands in for an error thrown by the host's own callbacks, so that its
 * message never reaches the client. The original is kept as `cause`, which Fastify logs.
 */
export function internalError (cause: unknown): Error & { statusCode: number } {
  return Object.assign(new Error('Internal Server Error', { cause }), { statusCode: 500 })
}
