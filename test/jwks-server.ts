import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import * as jose from 'jose'
import { validClaims } from './helpers'
import { pair } from './key-pairs'

/** What a test JWKS endpoint answers. */
export type Behaviour = 'serve' | 'garbage' | 'error' | 'hang' | 'empty' | 'not-json-object'

/** A JWKS endpoint on loopback, as a test drives it. */
export interface JwksServer {
  readonly url: string
  /** The document served with `'serve'`; tests change its keys. */
  readonly document: { keys: unknown[] }
  set (behaviour: Behaviour): void
  /** Answers every request with `handler` instead (redirects, oversized bodies). */
  handle (handler: ((request: IncomingMessage, response: ServerResponse) => void) | undefined): void
  hits (): number
  close (): Promise<void>
}

/** A JWKS endpoint on loopback whose answer each test chooses; it counts the requests it gets. */
export async function jwksServer (t: { teardown (fn: () => unknown): void }, host = '127.0.0.1'): Promise<JwksServer> {
  let behaviour: Behaviour = 'serve'
  let custom: ((request: IncomingMessage, response: ServerResponse) => void) | undefined
  let hits = 0
  const hanging: ServerResponse[] = []
  const document: { keys: unknown[] } = { keys: [] }
  const server = createServer((request, response) => {
    hits++
    if (custom !== undefined) return custom(request, response)
    switch (behaviour) {
      case 'serve': response.setHeader('content-type', 'application/json'); response.end(JSON.stringify(document)); break
      case 'garbage': response.end('<html>maintenance</html>'); break
      case 'error': response.statusCode = 500; response.end('{"error":"boom"}'); break
      case 'hang': hanging.push(response); break
      case 'empty': response.end('{"keys":[]}'); break
      case 'not-json-object': response.end('"keys"'); break
    }
  })
  await new Promise<void>((resolve) => server.listen(0, host, resolve))
  let closed = false
  const close = async (): Promise<void> => {
    if (closed) return
    closed = true
    for (const response of hanging.splice(0)) response.destroy()
    server.closeAllConnections()
    await new Promise((resolve) => server.close(resolve))
  }
  t.teardown(close)
  const address = server.address()
  const port = typeof address === 'object' && address !== null ? address.port : 0
  const origin = host.includes(':') ? `[${host}]` : host
  return {
    url: `http://${origin}:${port}/.well-known/jwks.json`,
    document,
    set: (next) => { behaviour = next },
    handle: (handler) => { custom = handler },
    hits: () => hits,
    close
  }
}

/** The public JWK of a test key, as an issuer publishes it; `extra` adds or (as undefined) removes fields. */
export async function publicJwk (kind: Parameters<typeof pair>[0], kid: string, alg: string | undefined, extra: Record<string, unknown> = {}): Promise<jose.JWK> {
  const jwk: Record<string, unknown> = { ...await jose.exportJWK(pair(kind).publicObject), kid, alg, use: 'sig', ...extra }
  for (const [name, value] of Object.entries(jwk)) if (value === undefined) delete jwk[name]
  return jwk as unknown as jose.JWK
}

/** A token signed by jose with a test key, as the issuer (or any independent implementation) would. */
export async function signed (kind: Parameters<typeof pair>[0], kid: string, alg: string, claims = validClaims(), header: Record<string, unknown> = {}): Promise<string> {
  return await new jose.SignJWT(claims).setProtectedHeader({ alg, typ: 'JWT', kid, ...header }).sign(await jose.importPKCS8(pair(kind).privateKey, alg))
}

/** A token with any header and no valid signature: what anyone can send. */
export function unsigned (header: Record<string, unknown>, claims = validClaims()): string {
  const part = (value: unknown): string => Buffer.from(JSON.stringify(value)).toString('base64url')
  return `${part(header)}.${part(claims)}.${Buffer.alloc(64).toString('base64url')}`
}

/**
 * Polls `check` until it holds, for a background JWKS refresh to land; false after about five
 * seconds of real time (counted in turns, as tests that fake `Date` cannot count in ms).
 */
export async function until (check: () => Promise<boolean>): Promise<boolean> {
  for (let turn = 0; turn < 500; turn++) {
    if (await check()) return true
    await new Promise((resolve) => setTimeout(resolve, 10))
  }
  return false
}
