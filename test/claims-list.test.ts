import { test } from 'tap'
import { REGISTERED_CLAIMS, assertSessionUser, userFromClaims } from '../lib/jwt/claims'
import type { SessionClaims } from '../lib/index'

// One list says which claims are the plugin's: what a host may not set, and what a renewal
// without loadUser does not carry over as the host's own. Both read it, so neither can drift.
test('a renewal without loadUser carries over every claim but the registered ones, whatever the list holds', async (t) => {
  const claims = Object.fromEntries(REGISTERED_CLAIMS.map((name) => [name, name === 'roles' ? ['user'] : `value of ${name}`]))
  const user = userFromClaims({ ...claims, sub: 'u1', fullname: 'Ada', tier: { level: 2 } } as unknown as SessionClaims)
  t.same(user, { sub: 'u1', roles: ['user'], claims: { fullname: 'Ada', tier: { level: 2 } } })
})

test('a host may set none of the registered claims', async (t) => {
  for (const name of REGISTERED_CLAIMS) {
    t.throws(() => assertSessionUser({ sub: 'u1', claims: { [name]: 'x' } }), new RegExp(`registered claim "${name}"`), name)
  }
})
