import { expect, test } from 'tstyche'
import type * as declared from 'fastify-jwt-session'
import type * as implemented from '../../lib/index'

// index.d.ts is written by hand; lib/index.ts is what runs. These keep the two in step:
// the same value exports, each implemented one usable where the declared one is expected.

/** The value exports of a module, as an object type. */
type ValuesOf<M> = { [K in keyof M]: M[K] }

test('lib/index.ts exports exactly the values index.d.ts declares', () => {
  expect<keyof typeof implemented>().type.toBe<keyof typeof declared>()
  expect<'jwtAuth' | 'memoryStore' | 'redisStore' | 'OptionError' | 'InvalidTokenError'>().type.toBeAssignableTo<keyof typeof declared>()
})

test('each value lib/index.ts exports has the type index.d.ts declares', () => {
  expect<ValuesOf<typeof implemented>>().type.toBeAssignableTo<ValuesOf<typeof declared>>()
  expect<typeof implemented.memoryStore>().type.toBe<typeof declared.memoryStore>()
  expect<typeof implemented.redisStore>().type.toBe<typeof declared.redisStore>()
})

test('a value index.d.ts does not declare would be caught', () => {
  expect<keyof typeof implemented | 'undeclared'>().type.not.toBe<keyof typeof declared>()
})
