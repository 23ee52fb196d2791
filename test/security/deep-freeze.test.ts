import { test } from 'tap'
import { bearer, buildApp, decodePayload } from '../helpers'

/*
 * Finding 5: claims were frozen at the top only, so a handler that changed a nested claim
 * changed it for every later request with the same cached token, and for its renewal.
 */

const TIERED = { sub: 'u-carol', roles: ['user'], claims: { profile: { tier: 'silver', tags: ['a'] } } }

test('nested claims are frozen: a handler cannot change what the next request, or a renewal, sees', async (t) => {
  const app = await buildApp(t, { verifyCredentials: async () => TIERED }, (server) => {
    server.get('/upgrade', { onRequest: server.authenticate }, async (request) => {
      const profile = (request.user as unknown as { profile: { tier: string, tags: string[] } }).profile
      const attempts = [
        () => { profile.tier = 'gold' },
        () => { profile.tags.push('b') },
        () => { Object.defineProperty(profile, 'extra', { value: 1 }) }
      ]
      return { refused: attempts.map((attempt) => { try { attempt(); return false } catch { return true } }) }
    })
  })
  const token = (await app.inject({ method: 'POST', url: '/@login', payload: { login: 'carol', password: 'any' } })).json().token as string
  // Several requests, so the token is in the verified-token cache by the last one.
  for (let i = 0; i < 3; i++) {
    t.same((await app.inject({ url: '/upgrade', headers: bearer(token) })).json(), { refused: [true, true, true] })
  }
  t.same((await app.inject({ url: '/me', headers: bearer(token) })).json().profile, { tier: 'silver', tags: ['a'] })
  const renewed = (await app.inject({ method: 'POST', url: '/@login-renew', headers: bearer(token) })).json().token as string
  t.same(decodePayload(renewed).profile, { tier: 'silver', tags: ['a'] }, 'the renewal signs what the login did')
})
