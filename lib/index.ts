import { jwtAuth as plugin } from './plugin'
import { memoryStore as createMemoryStore } from './stores/memory/store'
import { redisStore as createRedisStore } from './stores/redis/store'
import * as errors from './errors'
import { OptionError as OptionErrorClass } from './options/checks'

/** The plugin; also the default export and, in CommonJS, `require('fastify-jwt-session')` itself. */
export const jwtAuth = plugin
export default plugin
/** The in-process revocation store. */
export const memoryStore = createMemoryStore
/** The Redis revocation store, for many instances. */
export const redisStore = createRedisStore
/** Thrown at registration for an option that cannot be used. */
export const OptionError = OptionErrorClass
/** The error classes the plugin answers with, one per documented code. */
export const NoTokenError = errors.NoTokenError
export const BadRequestError = errors.BadRequestError
export const InvalidTokenError = errors.InvalidTokenError
export const ExpiredTokenError = errors.ExpiredTokenError
export const RevokedTokenError = errors.RevokedTokenError
export const SessionTooOldError = errors.SessionTooOldError
export const InvalidCredentialsError = errors.InvalidCredentialsError
export const ForbiddenError = errors.ForbiddenError
export const LogoutUnsupportedError = errors.LogoutUnsupportedError
export const StoreUnavailableError = errors.StoreUnavailableError
export const KeysUnavailableError = errors.KeysUnavailableError
export const TooManyAttemptsError = errors.TooManyAttemptsError
export const RenewTooSoonError = errors.RenewTooSoonError
export const CsrfError = errors.CsrfError
export const InsufficientAuthenticationError = errors.InsufficientAuthenticationError
export const SessionNotFoundError = errors.SessionNotFoundError

export type * from './types'

// As with every Fastify plugin, `require('fastify-jwt-session')` is the plugin itself, carrying
// the named exports; ESM's `import jwtAuth, { memoryStore }` reads the same object.
module.exports = Object.assign(plugin, module.exports)
