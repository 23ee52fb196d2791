/*
 * Fetching an issuer's JWKS document. get-jwks fetched one key at a time, chosen by the
 * token's own `alg`, followed redirects and read the whole answer; a verify-only service must
 * hold the whole document (the algorithm comes from each JWK, a missing kid is answered from
 * the last document), so the document is fetched here with Node's fetch, with the transport
 * rules of RFC 8725 §3.10 in mind: no redirects (a redirect to another host would hand the
 * choice of keys to it), a deadline for the whole exchange, and a bounded body.
 */

/** A JWKS document larger than this is refused: real ones are a few kilobytes. */
export const MAX_JWKS_BYTES = 64 * 1024

/** Why a fetch gave no usable document; the text is logged as a cause, never sent to clients. */
export class JwksFetchError extends Error {
  override name = 'JwksFetchError'
}

/** Reads `body` whole, or throws once it grows past {@link MAX_JWKS_BYTES}. */
async function boundedText (body: ReadableStream<Uint8Array>): Promise<string> {
  const chunks: Uint8Array[] = []
  let size = 0
  for await (const chunk of body as unknown as AsyncIterable<Uint8Array>) {
    size += chunk.byteLength
    // Leaving the loop cancels the stream: the rest of an oversized answer is never read.
    if (size > MAX_JWKS_BYTES) throw new JwksFetchError(`the JWKS document is larger than ${MAX_JWKS_BYTES} bytes`)
    chunks.push(chunk)
  }
  return Buffer.concat(chunks).toString('utf8')
}

/**
 * The `keys` array of the JWKS document at `url`, fetched within `timeout` milliseconds
 * (the deadline covers the body too). Throws for a redirect, a status other than 200, a body
 * over {@link MAX_JWKS_BYTES}, or a body that is not a JSON object with a `keys` array.
 */
export async function fetchJwks (url: string, timeout: number): Promise<unknown[]> {
  const response = await fetch(url, {
    redirect: 'error',
    signal: AbortSignal.timeout(timeout),
    headers: { accept: 'application/jwk-set+json, application/json' }
  })
  if (response.status !== 200) {
    await response.body?.cancel()
    throw new JwksFetchError(`the JWKS endpoint answered ${response.status}`)
  }
  // A GET answered 200 always has a body stream, if an empty one.
  const text = await boundedText(response.body as ReadableStream<Uint8Array>)
  let document: unknown
  try {
    document = JSON.parse(text)
  } catch (error) {
    throw new JwksFetchError('the JWKS document is not JSON', { cause: error })
  }
  // An array's `keys` is a method, and a string or number has none: only `{ "keys": [...] }` passes.
  const keys = (document as { keys?: unknown } | null)?.keys
  if (!Array.isArray(keys)) throw new JwksFetchError('the JWKS document is not an object with a "keys" array')
  return keys
}
