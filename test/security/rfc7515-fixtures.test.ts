import { test } from 'tap'
import { createPublicKey } from 'node:crypto'
import { createStrictVerifier, validClaims } from '../../lib/jwt/validity'
import { resolveOptions } from '../../lib/options/resolve'
import { bearer, buildApp, fakeClock } from '../helpers'

/**
 * The examples of RFC 7515 appendix A, signed by the RFC's authors with the keys printed
 * there: an independent check that verification accepts what it should. Their payload is
 * `{"iss":"joe","exp":1300819380,"http://example.com/is_root":true}`, so each is expired now
 * and valid under a clock set back to March 2011.
 */
const PAYLOAD = 'eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19yb290Ijp0cnVlfQ'
const BEFORE_EXPIRY = (1300819380 - 600) * 1000

/** A.1: HS256, with the 64-byte symmetric key of the example. */
const A1 = {
  token: `eyJ0eXAiOiJKV1QiLA0KICJhbGciOiJIUzI1NiJ9.${PAYLOAD}.dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk`,
  key: Buffer.from('AyM1SysPpbyDfgZld3umj1qzKObwVMkoqQ-EstJQLr_T-1qS0gZH75aKtMN3Yj0iPS4hcgUuTwjAzZr1Z9CAow', 'base64url')
}

/** A.2: RS256, with the example's 2048-bit RSA public key. */
const A2 = {
  token: `eyJhbGciOiJSUzI1NiJ9.${PAYLOAD}.cC4hiUPoj9Eetdgtv3hF80EGrhuB__dzERat0XF9g2VtQgr9PJbu3XOiZj5RZmh7AAuHIm4Bh-0Qc_lF5YKt_O8W2Fp5jujGbds9uJdbF9CUAr7t1dnZcAcQjbKBYNX4BAynRFdiuB--f_nZLgrnbyTyWzO75vRK5h6xBArLIARNPvkSjtQBMHlb1L07Qe7K0GarZRmB_eSN9383LcOLn6_dO--xi12jzDwusC-eOkHWEsqtFZESc6BfI7noOPqvhJ1phCnvWh6IeYI2w9QOYEUipUTI8np6LbgGY9Fs98rqVt5AXLIhWkWywlVmtVrBp0igcN_IoypGlUPQGe77Rw`,
  key: createPublicKey({
    format: 'jwk',
    key: {
      kty: 'RSA',
      e: 'AQAB',
      n: 'ofgWCuLjybRlzo0tZWJjNiuSfb4p4fAkd_wWJcyQoTbji9k0l8W26mPddxHmfHQp-Vaw-4qPCJrcS2mJPMEzP1Pt0Bm4d4QlL-yRT-SFd2lZS-pCgNMsD1W_YpRPEwOWvG6b32690r2jZ47soMZo9wGzjb_7OMg0LOL-bSf63kpaSHSXndS5z5rexMdbBYUsLA9e-KXBdQOS-UTo7WTBEMa2R2CapHg665xsmtdVMTBQY4uDZlxvb3qCo5ZwKh9kG4LT6_I5IhlJH7aGhyxXFvUK-DWNmoudF8NAco9_h9iaGNj8q2ethFkMLs91kzk2PAcDTW9gb54h4FRWyuXpoQ'
    }
  })
}

/** A.3: ES256, with the example's P-256 public key. */
const A3 = {
  token: `eyJhbGciOiJFUzI1NiJ9.${PAYLOAD}.DtEhU3ljbEg8L38VWAfUAqOyKAM6-Xx-F4GawxaepmXFCgfTjDxw5djxLa8ISlSApmWQxfKTUJqPP3-Kg6NU1Q`,
  key: createPublicKey({
    format: 'jwk',
    key: { kty: 'EC', crv: 'P-256', x: 'f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU', y: 'x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0' }
  })
}

/** A.5: the unsecured example, `alg: none` and an empty signature. */
const A5 = `eyJhbGciOiJub25lIn0.${PAYLOAD}.`

const options = resolveOptions({ secret: A1.key, routes: false })
const pem = (key: typeof A2.key): string => key.export({ type: 'spki', format: 'pem' }) as string
const verifiers = {
  HS256: createStrictVerifier(A1.key, ['HS256'], options),
  RS256: createStrictVerifier(pem(A2.key), ['RS256'], options),
  ES256: createStrictVerifier(pem(A3.key), ['ES256'], options)
}
const examples = [['A.1', 'HS256', A1.token], ['A.2', 'RS256', A2.token], ['A.3', 'ES256', A3.token]] as const

/** The same token with its payload changed (`"iss":"joe"` becomes `"iss":"job"`). */
function tampered (token: string): string {
  const [header, payload, signature] = token.split('.') as [string, string, string]
  return [header, payload.replace('eyJpc3MiOiJqb2Ui', 'eyJpc3MiOiJqb2Ii'), signature].join('.')
}

test('RFC 7515 A.1-A.3 verify under a clock set before their expiry, with the RFC keys', async (t) => {
  fakeClock(t, BEFORE_EXPIRY)
  for (const [name, algorithm, token] of examples) {
    const { header, payload } = verifiers[algorithm](token)
    t.equal(header.alg, algorithm, name)
    t.same(payload, { iss: 'joe', exp: 1300819380, 'http://example.com/is_root': true }, name)
    t.throws(() => verifiers[algorithm](tampered(token)), { code: 'FAST_JWT_INVALID_SIGNATURE' }, `${name} with its payload changed`)
  }
})

test('RFC 7515 A.1-A.3 are expired now: a valid signature, refused for its exp', async (t) => {
  for (const [name, algorithm, token] of examples) {
    t.throws(() => validClaims(token, verifiers[algorithm], options, Date.now()), { code: 'FST_JWT_SESSION_EXPIRED_TOKEN' }, name)
  }
})

test('RFC 7515 examples are refused under any other algorithm, and A.5 (alg none) under every one, at any time', async (t) => {
  fakeClock(t, BEFORE_EXPIRY)
  for (const [name, algorithm, token] of examples) {
    for (const other of Object.keys(verifiers) as Array<keyof typeof verifiers>) {
      if (other !== algorithm) t.throws(() => verifiers[other](token), `${name} under ${other}`)
    }
  }
  for (const verify of Object.values(verifiers)) t.throws(() => verify(A5), 'A.5')
})

test('through the plugin, RFC 7515 A.1 is expired now; under the old clock it is still refused, for it has none of the claims a session needs', async (t) => {
  const app = await buildApp(t, { secret: A1.key, expiresIn: '1h' })
  const now = await app.inject({ url: '/me', headers: bearer(A1.token) })
  t.equal(now.statusCode, 401)
  t.equal(now.json().code, 'FST_JWT_SESSION_EXPIRED_TOKEN')
  t.equal((await app.inject({ url: '/me', headers: bearer(A5) })).json().code, 'FST_JWT_SESSION_INVALID_TOKEN', 'A.5, alg none')

  fakeClock(t, BEFORE_EXPIRY)
  const then = await app.inject({ url: '/me', headers: bearer(A1.token) })
  t.equal(then.statusCode, 401)
  t.equal(then.json().code, 'FST_JWT_SESSION_INVALID_TOKEN', 'no sub, jti, iat, sid or auth_time')
  t.equal((await app.inject({ url: '/me', headers: bearer(A5) })).json().code, 'FST_JWT_SESSION_INVALID_TOKEN', 'A.5, alg none')
})

test('through the plugin with the RFC public keys, A.2 and A.3 are refused: they name no kid, and a key is chosen by kid only', async (t) => {
  fakeClock(t, BEFORE_EXPIRY)
  const keys = [{ kid: 'a2', algorithm: 'RS256', publicKey: A2.key }, { kid: 'a3', algorithm: 'ES256', publicKey: A3.key }] as const
  const app = await buildApp(t, { keys: [...keys], verifyCredentials: undefined })
  for (const token of [A2.token, A3.token]) {
    const response = await app.inject({ url: '/me', headers: bearer(token) })
    t.equal(response.json().code, 'FST_JWT_SESSION_INVALID_TOKEN')
  }
})
