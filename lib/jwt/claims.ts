import { randomFillSync } from 'node:crypto'
import type { SessionClaims, SessionUser } from '../types'
import { PROTOTYPE_KEYS } from './validity'

/**
 * Claims the plugin sets itself, listed once: a host's extra `claims` may not override them,
 * and a renewal without `loadUser` carries over every other claim of the old token.
 */
export const REGISTERED_CLAIMS = [
  'sub', 'roles', 'iat', 'exp', 'nbf', 'jti', 'sid', 'auth_time', 'auth_us', 'gen', 'iss', 'aud', 'csrf'
] as const satisfies ReadonlyArray<keyof SessionClaims | 'nbf' | 'csrf'>

const REGISTERED = new Set<string>(REGISTERED_CLAIMS)

/** Bytes of one id: 128 bits. */
const ID_BYTES = 16

/** Ids drawn from the system's CSPRNG at once: one call per 256 ids instead of one per id. */
const POOL_BYTES = ID_BYTES * 256

const pool = Buffer.alloc(POOL_BYTES)
let offset = POOL_BYTES

/**
 * 128 random bits, base64url: unguessable ids for `jti`, `sid` and `csrf` (RFC 7519 §4.1.7).
 * Taken from a pool filled by `randomFillSync`, the same CSPRNG as `randomBytes` (a login
 * costs two or three ids, and a call into it costs more than the bytes); each id's bytes are
 * wiped from the pool once taken, so the pool never holds an id already handed out.
 */
export function randomId (): string {
  if (offset === POOL_BYTES) {
    randomFillSync(pool)
    offset = 0
  }
  const id = pool.toString('base64url', offset, offset + ID_BYTES)
  pool.fill(0, offset, offset + ID_BYTES)
  offset += ID_BYTES
  return id
}

/**
 * Throws at a prototype key (`__proto__`, `constructor`, `prototype`) anywhere in a host's
 * claims: verification refuses such a token, so signing one would be a host bug.
 */
function assertNoPrototypeKeys (value: unknown, path: string): void {
  if (typeof value !== 'object' || value === null) return
  for (const key of Object.keys(value)) {
    if (PROTOTYPE_KEYS.has(key)) throw new TypeError(`claims may not hold a "${key}" key (at ${path})`)
    assertNoPrototypeKeys((value as Record<string, unknown>)[key], `${path}.${key}`)
  }
}

/** Throws a TypeError (a host bug, answered 500) for a user the plugin cannot sign for. */
export function assertSessionUser (user: SessionUser): void {
  if (typeof user !== 'object' || user === null) throw new TypeError('a session user must be an object')
  if (typeof user.sub !== 'string' || user.sub === '') throw new TypeError('a session user needs a non-empty string sub')
  if (user.roles !== undefined && (!Array.isArray(user.roles) || !user.roles.every((role) => typeof role === 'string'))) {
    throw new TypeError('roles must be an array of strings')
  }
  if (user.claims !== undefined) {
    if (typeof user.claims !== 'object' || user.claims === null || Array.isArray(user.claims)) throw new TypeError('claims must be an object')
    for (const name of Object.keys(user.claims)) {
      if (REGISTERED.has(name)) throw new TypeError(`claims may not set the registered claim "${name}"`)
    }
    assertNoPrototypeKeys(user.claims, 'claims')
  }
}

/** The user a renewal without `loadUser` signs for: the same `sub` and roles, and the host's extra claims. */
export function userFromClaims (claims: SessionClaims): SessionUser {
  const extra: Record<string, unknown> = {}
  for (const [name, value] of Object.entries(claims)) {
    if (!REGISTERED.has(name)) extra[name] = value
  }
  return { sub: claims.sub, roles: [...claims.roles], claims: extra }
}
