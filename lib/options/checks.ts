import { parse as parseDuration } from '@lukeed/ms'

/* The checks every option goes through; each failure names the option. */

/** An option that cannot be used; the message names the option. */
export class OptionError extends TypeError {
  override name = 'FastifyJwtSessionOptionError'
}

/** Throws the {@link OptionError} for `message`, prefixed with the package name. */
export function fail (message: string): never {
  throw new OptionError(`fastify-jwt-session: ${message}`)
}

/** An object that is not an array or null: what an options object must be. */
export function isPlainObject (value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

/**
 * Refuses a key of `object` that is not in `known`: a misspelt option (`maxEntires`) would
 * otherwise be ignored and its default used without a word. `where` names the object in the
 * message, such as `'loginThrottle.'`; `what` says what the key is not.
 */
export function rejectUnknownKeys (object: Record<string, unknown>, known: readonly string[], where: string, what: string): void {
  for (const key of Object.keys(object)) {
    if (!known.includes(key)) fail(`${where}${key} is not a known ${what}`)
  }
}

/** Seconds from a number of seconds or a duration string such as `'12h'`; whole and positive. */
export function toSeconds (name: string, value: unknown): number {
  const seconds = typeof value === 'number'
    ? value
    : typeof value === 'string' && value.trim() !== '' ? (parseDuration(value) ?? NaN) / 1000 : NaN
  if (!Number.isSafeInteger(seconds) || seconds <= 0) {
    fail(`${name} must be a positive whole number of seconds or a duration such as '12h', got ${JSON.stringify(value)}`)
  }
  return seconds
}

/** A whole number of at least `minimum`, for counts and milliseconds. */
export function wholeNumber (name: string, value: unknown, minimum: number, what: string): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < minimum) fail(`${name} must be ${what}`)
  return value
}

/** A function, or undefined when the option is not given. */
export function optionalFunction<T> (name: string, value: unknown): T | undefined {
  if (value !== undefined && typeof value !== 'function') fail(`${name} must be a function`)
  return value as T | undefined
}

/** A non-empty string, or undefined when the option is not given. */
export function optionalString (name: string, value: unknown): string | undefined {
  if (value !== undefined && (typeof value !== 'string' || value === '')) fail(`${name} must be a non-empty string`)
  return value as string | undefined
}
