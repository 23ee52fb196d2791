import AjvCompiler from '@fastify/ajv-compiler'
import { errorCodes, type FastifyError, type FastifyReply, type FastifyRequest, type FastifySchemaCompiler, type HookHandlerDoneFunction } from 'fastify'
import { channels } from '../ops/channels'

/**
 * Fastify's own Ajv compiler, set to refuse rather than repair: Fastify's defaults coerce
 * types (`123` becomes `"123"`) and strip unknown properties, and a login body must reach
 * the verifier exactly as the schema describes it, or not at all. Formats (`email`, …) work
 * as in any Fastify route.
 */
const buildValidator = AjvCompiler()({}, { customOptions: { coerceTypes: false, removeAdditional: false } })

/**
 * The validator compiler of the plugin's routes. With `optionalBody`, a request with no body
 * passes (the logout body is optional); Fastify hands a missing body to the validator as null.
 */
export function strictValidatorCompiler<S> (optionalBody = false): FastifySchemaCompiler<S> {
  return ({ schema, httpPart }) => {
    const validate = buildValidator({ schema: schema as object, httpPart } as Parameters<typeof buildValidator>[0])
    if (!optionalBody || httpPart !== 'body') return validate
    return (data: unknown) => {
      if (data === null || validate(data)) return { value: data }
      // A failed validation always has errors; allErrors is off, so there is exactly one.
      const [first] = validate.errors as unknown as [{ instancePath: string, message: string }]
      return { error: new Error(`body${first.instancePath} ${first.message}`) }
    }
  }
}

/**
 * An `onRequest` hook for a route whose body must be JSON: a body of another media type is
 * refused with Fastify's own 415, even where the host (or Fastify, for `text/plain`) has a
 * parser for it, so that it never reaches the schema as a string and gets a 400.
 */
export function requireJsonBody (request: FastifyRequest, _reply: FastifyReply, done: HookHandlerDoneFunction): void {
  const type = request.headers['content-type']
  if (type !== undefined && (type.split(';', 1)[0] as string).trim().toLowerCase() !== 'application/json') {
    return done(new errorCodes.FST_ERR_CTP_INVALID_MEDIA_TYPE())
  }
  done()
}

/**
 * An `onError` hook for the login route: a body refused before the route ran (the schema,
 * JSON that does not parse, an empty body, another media type, one too large) is a failed
 * login, published on the `login-failed` channel as `{ reason: 'body' }` and nothing more:
 * not the login name either, since a body that does not fit the schema is where a password
 * typed into the wrong field ends up. Fastify runs `onError` hooks before any error handler,
 * so the event is published whatever answers the error (Plone's bodies, a host's handler).
 */
export function publishBodyRefused (_request: FastifyRequest, _reply: FastifyReply, error: FastifyError, done: () => void): void {
  if (channels.loginFailed.hasSubscribers && isBodyRefusal(error)) channels.loginFailed.publish({ reason: 'body' })
  done()
}

/** Whether `error` refused the request's body: the schema's (`validationContext` body) or Fastify's body parsing's. */
function isBodyRefusal (error: FastifyError): boolean {
  return error.validationContext === 'body' || (typeof error.code === 'string' && error.code.startsWith('FST_ERR_CTP_'))
}
