import type { Database } from 'sql.js'
import type { SessionEntry, SessionFold, SessionRegistry } from 'fastify-jwt-session'

/**
 * The SQLite store's registry of sessions (`GET /@sessions` and the rest): one row per session
 * in `registry`, live or ended (`ended`), keyed by its id and indexed by user. sql.js runs each
 * method to the end before any other statement, so each is atomic for its user; with a
 * database shared by several processes, wrap each in `BEGIN IMMEDIATE` ... `COMMIT`.
 */
export function sqliteRegistry (db: Database): SessionRegistry {
  db.run(`CREATE TABLE IF NOT EXISTS registry (sid TEXT PRIMARY KEY, sub TEXT NOT NULL, created_at INTEGER NOT NULL,
    last_seen_at INTEGER NOT NULL, expires_at INTEGER NOT NULL, ip TEXT NOT NULL, user_agent TEXT NOT NULL, ended INTEGER NOT NULL)`)
  db.run('CREATE INDEX IF NOT EXISTS registry_sub ON registry (sub, ended)')
  const now = (): number => Math.floor(Date.now() / 1000)
  const rows = (sql: string, params: Array<string | number>): unknown[][] => db.exec(sql, params)[0]?.values ?? []
  const entry = (row: unknown[]): SessionEntry => {
    const [sid, createdAt, lastSeenAt, expiresAt, ip, userAgent] = row as [string, number, number, number, string, string]
    return { sid, createdAt, lastSeenAt, expiresAt, ip, userAgent }
  }
  const COLUMNS = 'sid, created_at, last_seen_at, expires_at, ip, user_agent'
  const live = (sub: string): SessionEntry[] =>
    rows(`SELECT ${COLUMNS} FROM registry WHERE sub = ? AND ended = 0 AND expires_at > ?`, [sub, now()]).map(entry)

  return {
    add (sub, { sid, createdAt, lastSeenAt, expiresAt, ip, userAgent }, max) {
      db.run('DELETE FROM registry WHERE sub = ? AND expires_at <= ?', [sub, now()])
      db.run('INSERT OR REPLACE INTO registry VALUES (?, ?, ?, ?, ?, ?, ?, 0)', [sid, sub, createdAt, lastSeenAt, expiresAt, ip, userAgent])
      // The least recently used past `max`, gone from the live list: the plugin ends each.
      const evicted = live(sub).sort((a, b) => a.lastSeenAt - b.lastSeenAt).slice(0, -max)
      for (const { sid } of evicted) db.run('DELETE FROM registry WHERE sid = ?', [sid])
      return evicted
    },
    touch (sub, { sid, lastSeenAt, expiresAt, ip, userAgent }) {
      db.run('UPDATE registry SET last_seen_at = ?, expires_at = ?, ip = ?, user_agent = ? WHERE sid = ? AND sub = ? AND ended = 0',
        [lastSeenAt, expiresAt, ip, userAgent, sid, sub])
    },
    list: live,
    ended (sub, sid, createdAt, expiresAt, max): SessionFold | undefined {
      db.run(`INSERT INTO registry VALUES (?, ?, ?, 0, ?, '', '', 1) ON CONFLICT (sid)
        DO UPDATE SET ended = 1, expires_at = max(expires_at, excluded.expires_at) WHERE sub = excluded.sub`, [sid, sub, createdAt, expiresAt])
      const ended = rows('SELECT sid, created_at FROM registry WHERE sub = ? AND ended = 1 AND expires_at > ? ORDER BY created_at', [sub, now()])
      if (ended.length <= max) return undefined
      // The oldest past `max` fold into a cut-off at the newest login among them, which also
      // covers the live sessions that logged in before it. They stay listed until `forget`:
      // the plugin records the cut-off first, and a live session must stay visible till then.
      const cutoff = Number(ended[ended.length - max - 1]?.[1])
      const sids = rows('SELECT sid FROM registry WHERE sub = ? AND created_at <= ?', [sub, cutoff]).map((row) => String(row[0]))
      return { cutoff, sids }
    },
    forget (sub, sids) {
      // Only what a cut-off of the user covers: called out of order, it forgets nothing.
      const cutoff = rows('SELECT cutoff FROM subjects WHERE sub = ?', [sub])[0]?.[0]
      if (typeof cutoff !== 'number') return
      for (const sid of sids) {
        db.run('DELETE FROM registry WHERE sid = ? AND sub = ? AND created_at <= ?', [sid, sub, cutoff])
        // A revocation goes only with an entry the cut-off covers, whatever the caller named.
        if (db.getRowsModified() > 0) db.run('DELETE FROM sessions WHERE sid = ?', [sid])
      }
    }
  }
}
