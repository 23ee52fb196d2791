import { keyFingerprints } from '../jwt/key-fingerprint'
import type { KeySource } from '../options/resolved'

/**
 * Claims the store's prefix for this app, at registration, when the store can (the Redis
 * store's optional `claimPrefix`) and this app signs: a service that only verifies shares
 * the store of the app whose tokens it verifies. Waits up to `timeout`: a claim refused in
 * that time (the prefix is another app's, or Redis refused) fails the registration; a
 * store whose backend is away does not hold the start up, and fails closed (503) until its
 * claim succeeded, as with `ready()`.
 */
export async function claimStorePrefix (store: unknown, keySource: KeySource, timeout: number): Promise<void> {
  const fingerprints = keyFingerprints(keySource)
  const claim = (store as { claimPrefix?: unknown } | undefined)?.claimPrefix
  if (fingerprints.length === 0 || typeof claim !== 'function') return
  let timer: NodeJS.Timeout | undefined
  const waited = new Promise<void>((resolve) => { timer = setTimeout(resolve, timeout) })
  try {
    await Promise.race([claim.call(store, [...fingerprints]), waited])
  } finally {
    clearTimeout(timer)
  }
}
