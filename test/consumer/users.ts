// The host's own user base, as the README's examples call it (users.check), for the blocks
// the tarball test type-checks.
export interface User { id: string, roles: string[], name: string }

export const users = {
  async check (login: string, password: string): Promise<User | null> {
    return login === 'ann' && password === 'a password' ? { id: 'u-ann', roles: ['admin'], name: 'Ann' } : null
  }
}
