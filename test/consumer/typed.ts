// Strict TypeScript, ESM ("type": "module", module nodenext): type-checked against the
// installed tarball's own types, with TypeBox and @fastify/jwt from the project's own imports.
import Fastify from 'fastify'
import fastifyJwt from '@fastify/jwt'
import { Type } from '@sinclair/typebox'
import jwtAuth, { memoryStore, type SessionClaims } from 'fastify-jwt-session'

declare module 'fastify-jwt-session' {
  interface SessionExtraClaims {
    fullname: string
  }
}

// The host's own tokens, signed through @fastify/jwt, typed the @fastify/jwt way.
declare module '@fastify/jwt' {
  interface FastifyJWT {
    payload: { scope: string }
  }
}

const app = Fastify()
await app.register(fastifyJwt, { secret: 'the-host-own-secret-of-32-bytes-at-least', decoratorName: 'apiClient' })
await app.register(jwtAuth, { secret: 'a-consumer-secret-of-at-least-32-bytes', verifyCredentials: async () => null, revocationStore: memoryStore() })
app.get('/me', { onRequest: [app.authenticate, app.requireRoles('admin')] }, async (request) => {
  const sub: string = request.user.sub
  const fullname: string = request.user.fullname
  const claims: SessionClaims = await request.authenticate()
  return { sub, fullname, roles: claims.roles }
})
app.get('/page', { onRequest: app.authenticateOptional }, async (request) => {
  const user: SessionClaims | null = request.user
  return { signedIn: user !== null }
})
const hostToken: string = app.jwt.sign({ scope: 'reports' })
void hostToken

// A login body of the host's own shape: verifyCredentials receives Static<typeof schema>.
const LoginBody = Type.Object({ email: Type.String({ format: 'email' }), password: Type.String(), remember: Type.Optional(Type.Boolean()) })
await app.register(jwtAuth, {
  secret: 'a-consumer-secret-of-at-least-32-bytes',
  credentialsSchema: LoginBody,
  verifyCredentials: async (credentials) => {
    const email: string = credentials.email
    const remember: boolean | undefined = credentials.remember
    // @ts-expect-error the default login field is not in this schema
    void credentials.login
    return remember === true ? { sub: email } : null
  }
})
await app.register(jwtAuth, {
  secret: 'a-consumer-secret-of-at-least-32-bytes',
  verifyCredentials: async (credentials) => ({ sub: credentials.login + credentials.password.length })
})
// @ts-expect-error an unknown option is a type error
await app.register(jwtAuth, { secret: 'x', expiresin: '1h' })
// @ts-expect-error roles are strings
app.requireRoles(42)
