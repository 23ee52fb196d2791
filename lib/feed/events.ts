import { randomBytes } from 'node:crypto'
import { Type, type Static } from '@sinclair/typebox'
import { TypeCompiler } from '@sinclair/typebox/compiler'
import { createSigner } from 'fast-jwt'
import type { ResolvedKey } from '../options/keys'
import type { KeySource } from '../options/resolved'
import type { RevocationChange, RevocationSnapshot } from '../types'

/*
 * The revocation feed's wire format: every SSE `data:` is one Security Event Token (RFC 8417),
 * signed with the issuer's signing key, `typ: secevent+jwt`, with `iss`, `iat`, `jti` and
 * exactly one event. Built here by the publisher, read here by the follower.
 */

/** The media type of a SET (RFC 8417 §2.3), exactly as the header carries it. */
export const SET_TYPE = 'secevent+jwt'

/** The event type URIs: CAEP's for a session's end, the package's own URNs for the rest. */
export const EVENT_TYPES = Object.freeze({
  sessionRevoked: 'https://schemas.openid.net/secevent/caep/event-type/session-revoked',
  sessionRenewed: 'urn:fastify-jwt-session:event:session-renewed',
  subjectRevoked: 'urn:fastify-jwt-session:event:subject-revoked',
  snapshot: 'urn:fastify-jwt-session:event:snapshot',
  heartbeat: 'urn:fastify-jwt-session:event:heartbeat'
} as const)

/** Entries (sessions and users together) in one snapshot SET, so that none grows past ~100 KB. */
export const SNAPSHOT_CHUNK = 1000

const Count = Type.Integer({ minimum: 0 })
const Id = Type.String({ minLength: 1, maxLength: 1024 })
const Opaque = Type.Object({ format: Type.Literal('opaque'), id: Id })
const Claims = { iss: Type.String(), iat: Count, jti: Type.String({ minLength: 16, maxLength: 256 }) }
/** `events` holding exactly `type`, with `body`. */
const events = <T extends ReturnType<typeof Type.Object>>(type: string, body: T) =>
  Type.Object({ [type]: body }, { additionalProperties: false, minProperties: 1 })

/** Every SET the feed sends, one schema per event type: a SET that matches none is refused. */
const FeedSetSchema = Type.Union([
  Type.Object({
    ...Claims,
    sub_id: Opaque,
    events: events(EVENT_TYPES.sessionRevoked, Type.Object({ event_timestamp: Count, expires_at: Count }))
  }),
  Type.Object({
    ...Claims,
    sub_id: Opaque,
    events: events(EVENT_TYPES.sessionRenewed, Type.Object({ event_timestamp: Count, generation: Count, renewed_at_us: Count, expires_at: Count }))
  }),
  Type.Object({
    ...Claims,
    sub_id: Opaque,
    events: events(EVENT_TYPES.subjectRevoked, Type.Object({ event_timestamp: Count, cutoff_us: Count, expires_at: Count }))
  }),
  Type.Object({
    ...Claims,
    events: events(EVENT_TYPES.snapshot, Type.Object({
      sessions: Type.Array(Type.Tuple([Id, Count, Count, Type.Union([Type.Literal(0), Type.Literal(1)]), Count]), { maxItems: SNAPSHOT_CHUNK }),
      subjects: Type.Array(Type.Tuple([Id, Count, Count]), { maxItems: SNAPSHOT_CHUNK }),
      last: Type.Boolean()
    }))
  }),
  Type.Object({ ...Claims, events: events(EVENT_TYPES.heartbeat, Type.Object({})) })
])

/** A SET of the feed, once its signature and shape are checked. */
export type FeedSet = Static<typeof FeedSetSchema>

const checker = TypeCompiler.Compile(FeedSetSchema)

/** Whether `payload` is one of the feed's SETs, field by field. */
export function isFeedSet (payload: unknown): payload is FeedSet {
  return checker.Check(payload)
}

/** Signs one SET: `events` holds the one event, `subject` (the `sub_id`'s id) when it names one. */
export type SetSigner = (type: string, event: Record<string, unknown>, subject?: string) => string

/**
 * The signer of the feed's SETs, with the key that signs the service's tokens: the secret, or
 * the first configured key with a private half (the options refuse a feed where none signs).
 */
export function createSetSigner (keySource: KeySource, issuer: string): SetSigner {
  let sign: (payload: Record<string, unknown>) => string
  if (keySource.kind === 'secret') {
    sign = createSigner({ key: keySource.secret, algorithm: keySource.algorithm, header: { alg: keySource.algorithm, typ: SET_TYPE } })
  } else {
    const key = (keySource as { keys: readonly ResolvedKey[] }).keys.find((candidate) => candidate.privateKey !== undefined) as ResolvedKey
    const pem = key.privateKey?.export({ type: 'pkcs8', format: 'pem' }) as string
    sign = createSigner({ key: pem, algorithm: key.algorithm, kid: key.kid, header: { alg: key.algorithm, typ: SET_TYPE, kid: key.kid } })
  }
  return (type, event, subject) => sign({
    iss: issuer,
    iat: Math.floor(Date.now() / 1000),
    jti: randomBytes(16).toString('base64url'),
    ...(subject === undefined ? undefined : { sub_id: { format: 'opaque', id: subject } }),
    events: { [type]: event }
  })
}

/** The SET of one change of the store's history. */
export function changeSet (sign: SetSigner, change: RevocationChange): string {
  const timestamp = Math.floor(Date.now() / 1000)
  if (change.kind === 'subject') {
    return sign(EVENT_TYPES.subjectRevoked, { event_timestamp: timestamp, cutoff_us: change.cutoff, expires_at: change.expiresAt }, change.sub)
  }
  const { record } = change
  if (record.ended) return sign(EVENT_TYPES.sessionRevoked, { event_timestamp: timestamp, expires_at: change.expiresAt }, change.sid)
  return sign(EVENT_TYPES.sessionRenewed, {
    event_timestamp: timestamp, generation: record.generation, renewed_at_us: record.renewedAt, expires_at: change.expiresAt
  }, change.sid)
}

/** The snapshot's chunks, {@link SNAPSHOT_CHUNK} entries each at most; the last (possibly empty) says so. */
export function * snapshotChunks (snapshot: Omit<RevocationSnapshot, 'cursor'>): Generator<{ sessions: unknown[], subjects: unknown[], last: boolean }> {
  const { sessions, subjects } = snapshot
  const total = sessions.length + subjects.length
  for (let start = 0; start === 0 || start < total; start += SNAPSHOT_CHUNK) {
    const end = start + SNAPSHOT_CHUNK
    yield {
      sessions: sessions.slice(start, end),
      subjects: subjects.slice(Math.max(0, start - sessions.length), Math.max(0, end - sessions.length)),
      last: end >= total
    }
  }
}
