import { jwtAuth } from './plugin'
import { memoryStore } from './stores/memory-store'
import * as errors from './errors'

export { jwtAuth, jwtAuth as default, memoryStore }
export {
  NoTokenError, BadRequestError, InvalidTokenError, ExpiredTokenError, RevokedTokenError, SessionTooOldError,
  InvalidCredentialsError, ForbiddenError, LogoutUnsupportedError, StoreUnavailableError
} from './errors'
export { OptionError } from './options'
export type { JwtAuthApi } from './plugin'
export type { AuthHook } from './authenticate'
export type { MemoryStore, MemoryStoreOptions } from './stores/memory-store'
export type * from './types'

// As with every Fastify plugin, `require('fastify-jwt-session')` is the plugin itself, with
// the named exports on it; ESM's `import jwtAuth, { memoryStore }` reads the same object.
module.exports = Object.assign(jwtAuth, { default: jwtAuth, jwtAuth, memoryStore, ...errors, OptionError: require('./options').OptionError })
