import type { Database } from 'sql.js'
import type { RevocationStore, SessionRecord } from 'fastify-jwt-session'
import { sqliteHistory } from './sqlite-history'
import { sqliteRegistry } from './sqlite-registry'

/**
 * A revocation store for your own SQL database, here SQLite: one row per session renewed or
 * ended, one per user logged out everywhere. Each write is one statement, so it is atomic
 * for its key (SQLite serialises writes). Expired session rows are deleted as renewals come.
 * Each change is also recorded in its `history` (`examples/sqlite-history.ts`), in the same
 * transaction, so that `revocationFeed` can publish it; its `registry`
 * (`examples/sqlite-registry.ts`) lists the sessions of each user.
 */
export function sqliteStore (db: Database): RevocationStore {
  db.run(`CREATE TABLE IF NOT EXISTS sessions (sid TEXT PRIMARY KEY, generation INTEGER NOT NULL,
    renewed_at INTEGER NOT NULL, ended INTEGER NOT NULL, expires_at INTEGER NOT NULL)`)
  db.run('CREATE TABLE IF NOT EXISTS subjects (sub TEXT PRIMARY KEY, cutoff INTEGER NOT NULL, expires_at INTEGER NOT NULL)')
  const now = (): number => Math.floor(Date.now() / 1000)
  const history = sqliteHistory(db)
  /** Runs `write` and records what it changed, in one transaction; then wakes the feed's readers. */
  function recorded (write: () => void): void {
    db.run('BEGIN')
    try {
      write()
      db.run('COMMIT')
    } catch (error) {
      db.run('ROLLBACK')
      throw error
    }
    history.notify()
  }
  const row = (sql: string, params: Array<string | number>): unknown[] | undefined => db.exec(sql, params)[0]?.values[0]
  function session (sid: string): SessionRecord | undefined {
    const found = row('SELECT generation, renewed_at, ended FROM sessions WHERE sid = ? AND expires_at > ?', [sid, now()])
    return found && { generation: Number(found[0]), renewedAt: Number(found[1]), ended: found[2] === 1 }
  }

  return {
    history,
    registry: sqliteRegistry(db),
    session,
    subject: (sub) => row('SELECT cutoff FROM subjects WHERE sub = ? AND expires_at > ?', [sub, now()])?.[0] as number | undefined,
    renew (sid, generation, at, expiresAt) {
      recorded(() => {
        db.run('DELETE FROM sessions WHERE expires_at <= ?', [now()])
        db.run(`INSERT INTO sessions VALUES (?, ?, ?, 0, ?) ON CONFLICT (sid) DO UPDATE SET generation = excluded.generation,
          renewed_at = excluded.renewed_at, expires_at = max(expires_at, excluded.expires_at) WHERE NOT ended AND generation <= ?`,
        [sid, generation + 1, at, expiresAt, generation])
        // Recorded only when it moved the session on, as the shipped stores do.
        if (db.getRowsModified() === 1) history.record({ kind: 'session', sid, record: session(sid) as SessionRecord, expiresAt })
      })
      return session(sid) as SessionRecord
    },
    end (sid, expiresAt) {
      recorded(() => {
        db.run(`INSERT INTO sessions VALUES (?, 0, 0, 1, ?)
          ON CONFLICT (sid) DO UPDATE SET ended = 1, expires_at = max(expires_at, excluded.expires_at)`, [sid, expiresAt])
        history.record({ kind: 'session', sid, record: { generation: 0, renewedAt: 0, ended: true }, expiresAt })
      })
    },
    endSubject (sub, cutoff, expiresAt) {
      recorded(() => {
        db.run(`INSERT INTO subjects VALUES (?, ?, ?) ON CONFLICT (sub)
          DO UPDATE SET cutoff = max(cutoff + 1, excluded.cutoff), expires_at = max(expires_at, excluded.expires_at)`, [sub, cutoff, expiresAt])
        history.record({ kind: 'subject', sub, cutoff: row('SELECT cutoff FROM subjects WHERE sub = ?', [sub])?.[0] as number, expiresAt })
      })
    }
  }
}
