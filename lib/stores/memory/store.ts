import { fail, isPlainObject, rejectUnknownKeys, wholeNumber } from '../../options/checks'
import { DEFAULTS, MEMORY_STORE_OPTIONS } from '../../options/defaults'
import type { MemoryStore, MemoryStoreOptions } from '../../types'
import { ENDED, SessionTables } from './tables'

/** Whole seconds since the epoch. */
const seconds = (): number => Math.floor(Date.now() / 1000)

/**
 * A revocation store in this process's memory: for one instance, and for tests. Its state
 * does not survive a restart and is not shared between processes; use `redisStore` for that.
 * Every call answers synchronously, so `authenticate` costs no promise and no timer. It holds
 * one entry per session renewed or ended and one per user logged out everywhere, each dropped
 * once no token it concerns can be used or renewed.
 *
 * @example
 * ```ts
 * await app.register(jwtAuth, { secret, verifyCredentials, revocationStore: memoryStore() })
 * ```
 */
export function memoryStore (options: MemoryStoreOptions = {}): MemoryStore {
  if (!isPlainObject(options)) fail('memoryStore options must be an object')
  rejectUnknownKeys(options, MEMORY_STORE_OPTIONS, 'memoryStore ', 'memoryStore option')
  const maxEntries = wholeNumber('memoryStore maxEntries', options.maxEntries ?? DEFAULTS.memoryStore.maxEntries, 1, 'a positive whole number')
  const tables = new SessionTables(maxEntries)

  return {
    get size () {
      return tables.size
    },
    session: (sid) => tables.session(sid),
    subject: (sub) => tables.subject(sub),
    renew (sid, generation, at, expiresAt) {
      const now = seconds()
      const current = tables.session(sid)
      if (current !== undefined && (current.ended || current.generation > generation)) return current
      return tables.setSession(sid, { generation: generation + 1, renewedAt: at, ended: false }, expiresAt, now)
    },
    end (sid, expiresAt) {
      tables.setSession(sid, ENDED, expiresAt, seconds())
    },
    endSubject (sub, cutoff, expiresAt) {
      tables.raiseSubject(sub, cutoff, expiresAt, seconds())
    }
  }
}
