import { fail, isPlainObject, rejectUnknownKeys } from './checks'
import { COOKIE_OPTIONS, DEFAULTS } from './defaults'
import type { ResolvedCookie } from './resolved'

/** An RFC 6265 cookie name, and an RFC 9110 header name: tokens. */
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/

/** The cookie name prefix that binds a cookie to its origin (RFC 6265bis §4.1.3.2). */
const HOST_PREFIX = '__Host-'

/** The `cookie` option: cookie mode, off by default. A name without `__Host-` adds to `warnings`. */
export function resolveCookie (cookie: unknown, warnings: string[]): ResolvedCookie | false {
  if (cookie === undefined || cookie === false) return false
  if (cookie === true) cookie = {}
  if (!isPlainObject(cookie)) fail('cookie must be true, false or an object')
  rejectUnknownKeys(cookie, COOKIE_OPTIONS, 'cookie.', 'cookie option')
  const { name = DEFAULTS.cookie.name, csrfHeader = DEFAULTS.cookie.csrfHeader } = cookie
  if (typeof name !== 'string' || !TOKEN.test(name)) fail('cookie.name must be a cookie name (letters, digits and !#$%&\'*+-.^_`|~)')
  if (typeof csrfHeader !== 'string' || !TOKEN.test(csrfHeader)) fail('cookie.csrfHeader must be a header name')
  if (!name.startsWith(HOST_PREFIX)) {
    // Without the prefix a sibling subdomain, or a page over plain HTTP, can set or shadow the cookie.
    warnings.push(`fastify-jwt-session: cookie.name "${name}" lacks the ${HOST_PREFIX} prefix, which keeps other subdomains and plain HTTP from setting it; prefer "${HOST_PREFIX}${name}"`)
  }
  return Object.freeze({ name, csrfHeader: csrfHeader.toLowerCase() })
}
