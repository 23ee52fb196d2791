import type { Database } from 'sql.js'
import type { RevocationStore, SessionRecord } from 'fastify-jwt-session'

/**
 * A revocation store for your own SQL database, here SQLite: one row per session renewed or
 * ended, one per user logged out everywhere. Each write is one statement, so it is atomic
 * for its key (SQLite serialises writes). Expired session rows are deleted as renewals come.
 */
export function sqliteStore (db: Database): RevocationStore {
  db.run(`CREATE TABLE IF NOT EXISTS sessions (sid TEXT PRIMARY KEY, generation INTEGER NOT NULL,
    renewed_at INTEGER NOT NULL, ended INTEGER NOT NULL, expires_at INTEGER NOT NULL)`)
  db.run('CREATE TABLE IF NOT EXISTS subjects (sub TEXT PRIMARY KEY, cutoff INTEGER NOT NULL, expires_at INTEGER NOT NULL)')
  const now = (): number => Math.floor(Date.now() / 1000)
  const row = (sql: string, params: Array<string | number>): unknown[] | undefined => db.exec(sql, params)[0]?.values[0]
  function session (sid: string): SessionRecord | undefined {
    const found = row('SELECT generation, renewed_at, ended FROM sessions WHERE sid = ? AND expires_at > ?', [sid, now()])
    return found && { generation: Number(found[0]), renewedAt: Number(found[1]), ended: found[2] === 1 }
  }

  return {
    session,
    subject: (sub) => row('SELECT cutoff FROM subjects WHERE sub = ? AND expires_at > ?', [sub, now()])?.[0] as number | undefined,
    renew (sid, generation, at, expiresAt) {
      db.run('DELETE FROM sessions WHERE expires_at <= ?', [now()])
      db.run(`INSERT INTO sessions VALUES (?, ?, ?, 0, ?) ON CONFLICT (sid) DO UPDATE SET generation = excluded.generation,
        renewed_at = excluded.renewed_at, expires_at = max(expires_at, excluded.expires_at) WHERE NOT ended AND generation <= ?`,
      [sid, generation + 1, at, expiresAt, generation])
      return session(sid) as SessionRecord
    },
    end (sid, expiresAt) {
      db.run(`INSERT INTO sessions VALUES (?, 0, 0, 1, ?)
        ON CONFLICT (sid) DO UPDATE SET ended = 1, expires_at = max(expires_at, excluded.expires_at)`, [sid, expiresAt])
    },
    endSubject (sub, cutoff, expiresAt) {
      db.run(`INSERT INTO subjects VALUES (?, ?, ?) ON CONFLICT (sub)
        DO UPDATE SET cutoff = max(cutoff + 1, excluded.cutoff), expires_at = max(expires_at, excluded.expires_at)`, [sub, cutoff, expiresAt])
    }
  }
}
