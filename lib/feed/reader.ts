import type { Keyring } from '../jwt/keyring'
import { EVENT_TYPES, isFeedSet, SET_TYPE, type FeedSet } from './events'

/** Why an event of the feed was ignored; the message names the check, never the token. */
export class RefusedEvent extends Error {
  override name = 'RefusedEvent'
}

/** Seconds a SET's `jti` is remembered; an older SET is refused as too old, so a replay is always caught. */
const JTI_MEMORY_SECONDS = 120

/** What a follower checks its SETs against. */
export interface ReaderOptions {
  readonly issuer: string
  /** Seconds. */
  readonly clockTolerance: number
  /** Milliseconds: a heartbeat older than this is no word from the issuer. */
  readonly maxStaleness: number
}

/**
 * Verifies the feed's SETs: the signature with the keyring (the issuer's secret or JWKS, and
 * `iss`, checked by the verifier), `typ` exactly `secevent+jwt`, one of the feed's events, an
 * `iat` not in the future beyond the tolerance nor too old, a heartbeat not older than
 * `maxStaleness`, and a `jti` not seen before. Throws a {@link RefusedEvent} otherwise.
 */
export function createSetReader (keyring: Keyring, options: ReaderOptions): (token: string) => Promise<FeedSet> {
  const memory = Math.max(JTI_MEMORY_SECONDS, Math.ceil(options.maxStaleness / 1000) + options.clockTolerance)
  /** Seen jtis and their `iat`, oldest first (as received, close enough: older ones are refused anyway). */
  const seen = new Map<string, number>()

  function forget (now: number): void {
    for (const [jti, iat] of seen) {
      if (iat >= now - memory) return
      seen.delete(jti)
    }
  }

  return async function read (token: string): Promise<FeedSet> {
    let decoded: { header: Record<string, unknown>, payload: Record<string, unknown> }
    try {
      decoded = (await keyring.verifierFor(token))(token)
    } catch {
      throw new RefusedEvent('its signature, key or issuer does not verify')
    }
    const { header, payload } = decoded
    if (header.typ !== SET_TYPE) throw new RefusedEvent(`its typ is not ${SET_TYPE}`)
    if (!isFeedSet(payload)) throw new RefusedEvent('it is not one of the feed\'s events')
    const now = Math.floor(Date.now() / 1000)
    if (payload.iat > now + options.clockTolerance) throw new RefusedEvent('its iat is in the future')
    if (payload.iat < now - memory) throw new RefusedEvent('its iat is too old')
    if (EVENT_TYPES.heartbeat in payload.events && payload.iat * 1000 < Date.now() - options.maxStaleness - options.clockTolerance * 1000) {
      throw new RefusedEvent('it is a heartbeat older than maxStaleness')
    }
    forget(now)
    if (seen.has(payload.jti)) throw new RefusedEvent('its jti was seen before (a replay)')
    seen.set(payload.jti, payload.iat)
    return payload
  }
}
