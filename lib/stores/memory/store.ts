import { fail, isPlainObject, rejectUnknownKeys, wholeNumber } from '../../options/checks'
import { DEFAULTS, MEMORY_STORE_OPTIONS } from '../../options/defaults'
import type { MemoryStore, MemoryStoreOptions } from '../../types'
import { ChangeHistory } from './history'
import { MemoryRegistry } from './registry'
import { ENDED, SessionTables } from './tables'

/** Whole seconds since the epoch. */
const seconds = (): number => Math.floor(Date.now() / 1000)

/**
 * A revocation store in this process's memory: for one instance, and for tests. Its state
 * does not survive a restart and is not shared between processes; use `redisStore` for that.
 * Every call answers synchronously, so `authenticate` costs no promise and no timer. It holds
 * one entry per session renewed or ended and one per user logged out everywhere, each dropped
 * once no token it concerns can be used or renewed. Its `history` of the last `historySize`
 * changes is what `revocationFeed` publishes; its `registry` lists each user's sessions (for
 * `GET /@sessions`), its entries counted under `maxEntries` too.
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
  const historySize = wholeNumber('memoryStore historySize', options.historySize ?? DEFAULTS.memoryStore.historySize, 1, 'a positive whole number')
  const tables = new SessionTables(maxEntries)
  const changes = new ChangeHistory(historySize)
  // Its entries count under `maxEntries` with the tables' (see registry.ts).
  const registry = new MemoryRegistry(tables)
  const createdAt = Date.now()

  return {
    get size () {
      return tables.size
    },
    history: changes.view(() => tables.dump(seconds())),
    registry,
    session: (sid) => tables.session(sid),
    subject: (sub) => tables.subject(sub),
    // Always ready: the state is this process's own memory.
    health: () => ({ state: 'ready', since: createdAt }),
    renew (sid, generation, at, expiresAt) {
      const now = seconds()
      const current = tables.session(sid)
      if (current !== undefined && (current.ended || current.generation > generation)) return current
      const record = tables.setSession(sid, { generation: generation + 1, renewedAt: at, ended: false }, expiresAt, now)
      changes.record({ kind: 'session', sid, record, expiresAt })
      return record
    },
    end (sid, expiresAt) {
      tables.setSession(sid, ENDED, expiresAt, seconds())
      changes.record({ kind: 'session', sid, record: ENDED, expiresAt })
    },
    endSubject (sub, cutoff, expiresAt) {
      // Past the cut-off held, as the Redis store's script does: a login may be stamped just past it.
      const held = tables.subject(sub)
      const raised = held !== undefined && held >= cutoff ? held + 1 : cutoff
      tables.raiseSubject(sub, raised, expiresAt, seconds())
      // The value recorded, not the one asked: a follower must refuse what this store refuses.
      changes.record({ kind: 'subject', sub, cutoff: raised, expiresAt })
    }
  }
}
