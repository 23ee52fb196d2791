import { test } from 'tap'
import { createHmac } from 'node:crypto'
import { SECRET, bearer, buildApp, encode, validClaims } from '../helpers'

/** Signs a payload given as raw JSON text, so that it can repeat a claim name. */
function signRaw (payloadJson: string): string {
  const input = `${encode({ alg: 'HS256', typ: 'JWT' })}.${encode(payloadJson)}`
  return `${input}.${createHmac('sha256', SECRET).update(input).digest('base64url')}`
}

test('duplicate claim names: the lexically last one counts (RFC 7519 §4), everywhere', async (t) => {
  const app = await buildApp(t, { expiresIn: '1h' })
  const claims = JSON.stringify(validClaims()).slice(1, -1)
  const escalated = signRaw(`{"roles":["admin"],${claims.replace('"roles":["admin"]', '"roles":["user"]')},"roles":["user"]}`)
  t.equal((await app.inject({ url: '/admin', headers: bearer(escalated) })).statusCode, 403, 'the last roles claim, ["user"], is the one checked')
  const dueLater = signRaw(`{${claims},"exp":${Math.floor(Date.now() / 1000) - 10}}`)
  t.equal((await app.inject({ url: '/me', headers: bearer(dueLater) })).json().code, 'FST_JWT_SESSION_EXPIRED_TOKEN', 'the last exp is the one checked')
  const subject = signRaw(`{${claims},"sub":"u-bob"}`)
  t.equal((await app.inject({ url: '/me', headers: bearer(subject) })).json().sub, 'u-bob', 'the last sub is the one answered')
})
