import { StoreUnavailableError } from '../errors'

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
 * Calls a store and waits for its answer, failing closed: a throw, a rejection or an answer
 * slower than `timeout` becomes a 503. For the paths that are asynchronous anyway (revoking,
 * counting login attempts); `authenticate` keeps a synchronous store synchronous.
 */
export async function callStore<T> (call: () => T | Promise<T>, timeout: number): Promise<T> {
  let answer: T | Promise<T>
  try {
    answer = call()
  } catch (cause) {
    throw new StoreUnavailableError({ cause })
  }
  return isThenable(answer) ? await withTimeout(answer, timeout) : answer
}
