import { fail, isPlainObject, rejectUnknownKeys } from './checks'
import { COOKIE_OPTIONS, DEFAULTS } from './defaults'
import type { ResolvedCookie } from './resolved'

/** An RFC 6265 cookie name, and an RFC 9110 header name: tokens. */
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/

/** The `cookie` option: cookie mode, off by default. */
export function resolveCookie (cookie: unknown): ResolvedCookie | false {
  if (cookie === undefined || cookie === false) return false
  if (cookie === true) cookie = {}
  if (!isPlainObject(cookie)) fail('cookie must be true, false or an object')
  rejectUnknownKeys(cookie, COOKIE_OPTIONS, 'cookie.', 'cookie option')
  const { name = DEFAULTS.cookie.name, csrfHeader = DEFAULTS.cookie.csrfHeader } = cookie
  if (typeof name !== 'string' || !TOKEN.test(name)) fail('cookie.name must be a cookie name (letters, digits and !#$%&\'*+-.^_`|~)')
  if (typeof csrfHeader !== 'string' || !TOKEN.test(csrfHeader)) fail('cookie.csrfHeader must be a header name')
  return Object.freeze({ name, csrfHeader: csrfHeader.toLowerCase() })
}
