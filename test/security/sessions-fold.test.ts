import { test } from 'tap'
import { memoryStore } from '../../lib/index'
import { bearer, buildApp, login } from '../helpers'

// A login/logout loop by one user must neither grow the store without bound nor, once the
// registry folds old ended sessions into a cut-off, forget a single logout: every token
// logged out stays refused.

const CAP = 3
const CYCLES = 10_000

test(`${CYCLES} login/logout cycles: the store stays bounded and every logged-out token stays refused`, async (t) => {
  const store = memoryStore()
  const app = await buildApp(t, { maxSessionsPerUser: CAP, loginThrottle: false, revocationStore: store })
  const registry = store.registry
  const kept: string[] = []
  let largest = 0
  let largestRegistry = 0
  for (let index = 0; index < CYCLES; index++) {
    const token = await login(app)
    const response = await app.inject({ method: 'POST', url: '/@logout', headers: bearer(token) })
    if (response.statusCode !== 204) throw new Error(`logout ${index}: ${response.statusCode} ${response.body}`)
    if (index === 0 || index % 500 === 0 || index === CYCLES - 1) kept.push(token)
    largest = Math.max(largest, store.size)
    largestRegistry = Math.max(largestRegistry, registry.held('u-alice'))
  }
  t.ok(largest <= 2 * CAP + 1, `the store held at most ${2 * CAP + 1} entries (held ${largest})`)
  t.ok(largestRegistry <= 2 * CAP, `the registry held at most ${2 * CAP} entries for the user (held ${largestRegistry})`)
  t.equal(kept.length, CYCLES / 500 + 1)
  for (const token of kept) {
    t.equal((await app.inject({ url: '/me', headers: bearer(token) })).statusCode, 401, 'a logged-out token stays refused')
  }
  // A new login still works: the cut-off covers only the folded sessions.
  const fresh = await login(app)
  t.equal((await app.inject({ url: '/me', headers: bearer(fresh) })).statusCode, 200)
})
