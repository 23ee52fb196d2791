import AjvCompiler from '@fastify/ajv-compiler'
import { errorCodes, type FastifyReply, type FastifyRequest, type FastifySchemaCompiler, type HookHandlerDoneFunction } from 'fastify'

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
