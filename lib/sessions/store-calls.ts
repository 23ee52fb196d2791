import { StoreUnavailableError } from '../errors'
import { channels, timeStoreCall } from '../ops/channels'

/** Whether a store answered with a promise rather than at once. */
export function isThenable<T> (value: T | Promise<T>): value is Promise<T> {
  return typeof (value as Promise<T> | null)?.then === 'function'
}

/** A pending store answer, failing closed: a rejection or an answer slower than `timeout` becomes a 503. */
export function withTimeout<T> (pending: Promise<T>, timeout: number): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new StoreUnavailableError({ cause: new Error(`store call timed out after ${timeout} ms`) })), timeout)
    pending.then(
      (value) => { clearTimeout(timer); resolve(value) },
      (cause: unknown) => { clearTimeout(timer); reject(new StoreUnavailableError({ cause })) }
    )
  })
}

/**
 * Calls a store, failing closed: a throw, a rejection or an answer slower than `timeout`
 * becomes a 503. A synchronous answer stays synchronous (no promise, no timer), for the paths
 * that run often (the login throttle with the memory counter).
 */
export function callStoreNow<T> (call: () => T | Promise<T>, timeout: number): T | Promise<T> {
  // Timed only for a subscriber (a store-call histogram): otherwise one boolean read.
  const started = channels.storeCall.hasSubscribers ? performance.now() : -1
  let answer: T | Promise<T>
  try {
    answer = call()
  } catch (cause) {
    if (started >= 0) channels.storeCall.publish({ durationMs: performance.now() - started, ok: false })
    throw new StoreUnavailableError({ cause })
  }
  const checked = isThenable(answer) ? withTimeout(answer, timeout) : answer
  return started >= 0 ? timeStoreCall(started, checked) : checked
}

/** {@link callStoreNow}, always as a promise: for the paths that are asynchronous anyway (revoking). */
export async function callStore<T> (call: () => T | Promise<T>, timeout: number): Promise<T> {
  return await callStoreNow(call, timeout)
}

/**
 * Waits, at registration, up to `timeout` for a store's `ready()`, if it has one: a store that
 * reports a problem in that time (the Redis store refuses an evicting or old Redis, or an ACL
 * it cannot work with) fails the registration. A store still loading, or whose backend is
 * away, does not hold the start up: its calls fail closed (503) until it is ready.
 */
export async function awaitStoreReady (store: unknown, timeout: number): Promise<void> {
  const ready = (store as { ready?: unknown } | undefined)?.ready
  if (typeof ready !== 'function') return
  let timer: NodeJS.Timeout | undefined
  const waited = new Promise<void>((resolve) => { timer = setTimeout(resolve, timeout) })
  try {
    await Promise.race([ready.call(store), waited])
  } finally {
    clearTimeout(timer)
  }
}
