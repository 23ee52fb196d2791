import diagnostics from 'node:diagnostics_channel'

/**
 * The `diagnostics_channel` channels an operator subscribes to, named
 * `fastify-jwt-session:<event>`. A message carries identifiers and codes only: never a token,
 * a password, a secret, a login name (people type passwords into it) or the request (its
 * headers hold the token). Every publisher checks `hasSubscribers` first, so that nobody
 * listening costs one boolean read and no allocation.
 */
export const channels = Object.freeze({
  login: diagnostics.channel('fastify-jwt-session:login'),
  loginFailed: diagnostics.channel('fastify-jwt-session:login-failed'),
  renew: diagnostics.channel('fastify-jwt-session:renew'),
  reuse: diagnostics.channel('fastify-jwt-session:reuse'),
  logout: diagnostics.channel('fastify-jwt-session:logout'),
  refused: diagnostics.channel('fastify-jwt-session:refused'),
  store: diagnostics.channel('fastify-jwt-session:store'),
  storeCall: diagnostics.channel('fastify-jwt-session:store-call')
})

/** Why a login was refused, as the `login-failed` channel says it. */
export type LoginFailedReason = 'credentials' | 'throttled' | 'body'

/** Which sessions a logout ended; `others` is kept for a logout of every other session. */
export type LogoutKind = 'one' | 'all' | 'others'

/**
 * Publishes a refusal of `authenticate` (401, 403 or 503) with its error code. Called only
 * on a failure, after the caller checked `channels.refused.hasSubscribers`.
 */
export function publishRefused (error: unknown): void {
  const { code, statusCode } = (error ?? {}) as { code?: unknown, statusCode?: unknown }
  channels.refused.publish({
    code: typeof code === 'string' ? code : 'UNKNOWN',
    statusCode: typeof statusCode === 'number' ? statusCode : 500
  })
}

/**
 * Times a store answer for the `store-call` channel: `{ durationMs, ok }` once it settles.
 * Only called when someone subscribes; a synchronous answer is timed at once.
 */
export function timeStoreCall<T> (started: number, answer: Promise<T>): Promise<T>
export function timeStoreCall<T> (started: number, answer: T | Promise<T>): T | Promise<T>
export function timeStoreCall<T> (started: number, answer: T | Promise<T>): T | Promise<T> {
  const settle = (ok: boolean): void => {
    channels.storeCall.publish({ durationMs: performance.now() - started, ok })
  }
  if (answer instanceof Promise) {
    return answer.then((value) => { settle(true); return value }, (error: unknown) => { settle(false); throw error })
  }
  settle(true)
  return answer
}
