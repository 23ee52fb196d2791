import { scrypt, timingSafeEqual, type BinaryLike, type ScryptOptions } from 'node:crypto'
import type { SessionUser } from 'fastify-jwt-session'

/** A user of the example's own user base: the password is kept only as an scrypt hash. */
interface StoredUser {
  /** `scrypt$<salt>$<hash>`, base64url, N=16384 r=8 p=1, 32 bytes. */
  passwordHash: string
  user: SessionUser
}

const USERS: Record<string, StoredUser> = {
  admin: {
    passwordHash: 'scrypt$-_b9Oo2_YM8XV7OgarZxsQ$r2S2HV9cMfQMJ-utPtrQFcJPOZOdK5bHokEcBynB_qs',
    user: { sub: 'admin', roles: ['admin'], claims: { fullname: 'Ada Admin' } }
  },
  roger: {
    passwordHash: 'scrypt$3zdOBJutyb4Hgga1a8WRUQ$Bd6G-LOlqzoT3XlECeuTubynqXdwSp_yRJ7JXDlHuk8',
    user: { sub: 'roger', roles: ['user'], claims: { fullname: 'Roger Rabbit' } }
  }
}

/** Hashed for an unknown login, so that it costs the same work as a known one (no timing oracle). */
const DECOY_HASH = 'scrypt$vxTAUdr-4_G-5eKzyKY5Ug$pUGSE3j7CyGMA8stHN5xVyGTHVu3T94VTDW0FKo8utE'

function scryptAsync (password: BinaryLike, salt: BinaryLike, length: number, options: ScryptOptions): Promise<Buffer> {
  return new Promise((resolve, reject) => scrypt(password, salt, length, options, (error, key) => error ? reject(error) : resolve(key)))
}

async function matches (password: string, stored: string): Promise<boolean> {
  const [, salt, hash] = stored.split('$') as [string, string, string]
  const expected = Buffer.from(hash, 'base64url')
  const actual = await scryptAsync(password, Buffer.from(salt, 'base64url'), expected.length, { N: 16384, r: 8, p: 1 })
  return timingSafeEqual(actual, expected)
}

/**
 * The example's credential check: the user for a right login and password, `null` otherwise,
 * with the same hashing work whether or not the login exists.
 */
export async function checkCredentials ({ login, password }: { login: string, password: string }): Promise<SessionUser | null> {
  const stored = Object.hasOwn(USERS, login) ? USERS[login] : undefined
  const ok = await matches(password, stored?.passwordHash ?? DECOY_HASH)
  return ok && stored !== undefined ? stored.user : null
}

/** The current record of a user, for renewals: roles may have changed since the login. */
export async function findUser (sub: string): Promise<SessionUser | null> {
  return Object.hasOwn(USERS, sub) ? (USERS[sub] as StoredUser).user : null
}
