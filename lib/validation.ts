import { TypeCompiler } from '@sinclair/typebox/compiler'
import type { TSchema } from '@sinclair/typebox'
import type { ValueError } from '@sinclair/typebox/errors'
import type { FastifySchemaCompiler } from 'fastify'

/**
 * A validator compiler for the plugin's routes, built on TypeBox's own checker.
 * Fastify's default Ajv settings coerce types (`123` becomes `"123"`) and strip unknown
 * properties; a login body must be refused, not repaired, before the verifier sees it.
 * With `optionalBody`, a request with no body passes (the logout body is optional).
 */
export function strictValidatorCompiler<S> (optionalBody = false): FastifySchemaCompiler<S> {
  return ({ schema, httpPart }) => {
    const checker = TypeCompiler.Compile(schema as TSchema)
    return (data: unknown) => {
      // Fastify hands a missing body to the validator as null.
      if (checker.Check(data) || (optionalBody && httpPart === 'body' && data === null)) return { value: data }
      // A failed check always yields at least one error; the first names the field.
      const first = checker.Errors(data).First() as ValueError
      return { error: new Error(`${httpPart}${first.path} ${first.message}`) }
    }
  }
}
