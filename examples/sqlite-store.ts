import type { Database } from 'sql.js'
import type { RevocationStore } from 'fastify-jwt-session'

/**
 * A revocation store for your own SQL database, here SQLite: the whole interface is two
 * methods. `revoke` keeps the larger cut-off per key and says whether it changed anything;
 * `cutoff` answers the largest live one. Expired rows are deleted as new ones come.
 */
export function sqliteStore (db: Database): RevocationStore {
  db.run(`CREATE TABLE IF NOT EXISTS revocations (
    key TEXT PRIMARY KEY, cutoff INTEGER NOT NULL, expires_at INTEGER NOT NULL)`)
  const now = (): number => Math.floor(Date.now() / 1000)

  return {
    revoke (key, cutoff, expiresAt) {
      db.run('DELETE FROM revocations WHERE expires_at <= ?', [now()])
      // One statement, so one key cannot be revoked twice with `true` (SQLite serialises writes).
      db.run(`INSERT INTO revocations (key, cutoff, expires_at) VALUES (?, ?, ?)
        ON CONFLICT (key) DO UPDATE SET cutoff = excluded.cutoff, expires_at = max(expires_at, excluded.expires_at)
        WHERE excluded.cutoff > revocations.cutoff`, [key, cutoff, expiresAt])
      return db.getRowsModified() === 1
    },
    cutoff (keys) {
      const placeholders = keys.map(() => '?').join(', ')
      const [result] = db.exec(`SELECT max(cutoff) FROM revocations WHERE key IN (${placeholders}) AND expires_at > ?`, [...keys, now()])
      return (result?.values[0]?.[0] as number | null | undefined) ?? undefined
    }
  }
}
