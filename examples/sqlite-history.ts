import { randomBytes } from 'node:crypto'
import type { Database } from 'sql.js'
import type { RevocationChange, RevocationHistory, RevocationSnapshot } from 'fastify-jwt-session'

/** A change as the store records it, before the history gives it its cursor. */
export type Change = RevocationChange extends infer C ? C extends RevocationChange ? Omit<C, 'cursor'> : never : never

/** What the SQLite store adds to {@link RevocationHistory}: it records each change with its write. */
export interface SqliteHistory extends RevocationHistory {
  /** Appends `change`: call it in the transaction of the write it describes. */
  record (change: Change): void
  /** Wakes the readers, once the transaction is committed. */
  notify (): void
}

/**
 * The SQLite store's history, for `revocationFeed`: one row per change in `changes`, numbered
 * by SQLite (`AUTOINCREMENT` never reuses a number), the last `size` kept. A cursor is
 * `<id>.<seq>`, the id random per database (kept in `history_id`), so that a cursor of another
 * database is unknown here and its reader gets a snapshot. `watch` hears this process's writes:
 * with several processes on one database, each serves the feed only of what it wrote, so run
 * the feed from one process (or poll `changesSince`).
 */
export function sqliteHistory (db: Database, size = 100_000): SqliteHistory {
  db.run(`CREATE TABLE IF NOT EXISTS changes (seq INTEGER PRIMARY KEY AUTOINCREMENT, kind TEXT NOT NULL, id TEXT NOT NULL,
    generation INTEGER, renewed_at INTEGER, ended INTEGER, cutoff INTEGER, expires_at INTEGER NOT NULL)`)
  db.run('CREATE TABLE IF NOT EXISTS history_id (id TEXT NOT NULL)')
  const rows = (sql: string, params: Array<string | number> = []): unknown[][] => db.exec(sql, params)[0]?.values ?? []
  if (rows('SELECT id FROM history_id').length === 0) db.run('INSERT INTO history_id VALUES (?)', [randomBytes(12).toString('base64url')])
  const id = String(rows('SELECT id FROM history_id')[0]?.[0])
  const last = (): number => Number(rows("SELECT seq FROM sqlite_sequence WHERE name = 'changes'")[0]?.[0] ?? 0)
  const listeners = new Set<() => void>()
  const now = (): number => Math.floor(Date.now() / 1000)

  function change (row: unknown[]): RevocationChange {
    const [seq, kind, key, generation, renewedAt, ended, cutoff, expiresAt] = row as [number, string, string, number, number, number, number, number]
    const cursor = `${id}.${seq}`
    if (kind === 'subject') return { cursor, kind, sub: key, cutoff, expiresAt }
    return { cursor, kind: 'session', sid: key, record: { generation, renewedAt, ended: ended === 1 }, expiresAt }
  }

  return {
    record (change) {
      const { kind, expiresAt } = change
      if (change.kind === 'subject') {
        db.run('INSERT INTO changes (kind, id, cutoff, expires_at) VALUES (?, ?, ?, ?)', [kind, change.sub, change.cutoff, expiresAt])
      } else {
        const { generation, renewedAt, ended } = change.record
        db.run('INSERT INTO changes (kind, id, generation, renewed_at, ended, expires_at) VALUES (?, ?, ?, ?, ?, ?)',
          [kind, change.sid, generation, renewedAt, ended ? 1 : 0, expiresAt])
      }
      db.run('DELETE FROM changes WHERE seq <= ?', [last() - size])
    },
    notify () {
      for (const listener of listeners) listener()
    },
    snapshot (): RevocationSnapshot {
      // sql.js answers synchronously: nothing is written between these reads.
      return {
        cursor: `${id}.${last()}`,
        sessions: rows('SELECT sid, generation, renewed_at, ended, expires_at FROM sessions WHERE expires_at > ?', [now()]) as unknown as RevocationSnapshot['sessions'],
        subjects: rows('SELECT sub, cutoff, expires_at FROM subjects WHERE expires_at > ?', [now()]) as unknown as RevocationSnapshot['subjects']
      }
    },
    changesSince (cursor, limit) {
      const dot = cursor.lastIndexOf('.')
      const after = Number(cursor.slice(dot + 1))
      if (cursor.slice(0, dot) !== id || !/^(?:0|[1-9][0-9]{0,15})$/.test(cursor.slice(dot + 1)) || after > last()) return undefined
      // Resuming after `after` needs the change just after it, unless nothing came since.
      if (after < last() && rows('SELECT 1 FROM changes WHERE seq = ?', [after + 1]).length === 0) return undefined
      return rows('SELECT seq, kind, id, generation, renewed_at, ended, cutoff, expires_at FROM changes WHERE seq > ? ORDER BY seq LIMIT ?', [after, limit]).map(change)
    },
    watch (listener) {
      const own = (): void => listener()
      listeners.add(own)
      return () => { listeners.delete(own) }
    }
  }
}
