import type { RevocationChange } from '../types'

/** How long a signed change is handed to further readers before it is signed afresh. */
const SHARED_FOR_MS = 10_000
/** Signed changes kept at once: readers live on the feed ask for the same few. */
const KEPT = 4096

/**
 * The issuer's signed changes, shared by every reader that asks for the same change within
 * {@link SHARED_FOR_MS}: one signature per change instead of one per reader, so fifty
 * followers cost the issuer one HMAC or ECDSA signature per revocation, not fifty. A frame is
 * found only by the whole change, its cursor included (`JSON.stringify`): two changes that
 * differ in anything never share one. The SET's `jti` is then the same for every reader, which
 * each one's replay check keeps apart; a frame is re-signed before its `iat` could look old.
 */
export class SharedFrames {
  private readonly frames = new Map<string, { readonly text: string, readonly at: number }>()

  /** The frame of `change`: the one signed for another reader a moment ago, or `make()`'s. */
  get (change: RevocationChange, make: () => string): string {
    const key = JSON.stringify(change)
    const now = Date.now()
    const kept = this.frames.get(key)
    if (kept !== undefined && now - kept.at <= SHARED_FOR_MS) return kept.text
    const text = make()
    this.frames.delete(key)
    this.frames.set(key, { text, at: now })
    // The oldest first: a Map iterates in insertion order.
    if (this.frames.size > KEPT) this.frames.delete(this.frames.keys().next().value as string)
    return text
  }
}
