import type { AuditHooks, JwtSessionOptions } from '../types'
import { optionalFunction } from './checks'

/** The host's audit hooks (`onLogin`, `onLoginFailed`, `onRenew`, `onLogout`, `onReuse`, `onSessionEvicted`), each a function or absent. */
export function resolveAudit (options: JwtSessionOptions): Readonly<AuditHooks> {
  return Object.freeze({
    onLogin: optionalFunction<AuditHooks['onLogin']>('onLogin', options.onLogin),
    onLoginFailed: optionalFunction<AuditHooks['onLoginFailed']>('onLoginFailed', options.onLoginFailed),
    onRenew: optionalFunction<AuditHooks['onRenew']>('onRenew', options.onRenew),
    onLogout: optionalFunction<AuditHooks['onLogout']>('onLogout', options.onLogout),
    onReuse: optionalFunction<AuditHooks['onReuse']>('onReuse', options.onReuse),
    onSessionEvicted: optionalFunction<AuditHooks['onSessionEvicted']>('onSessionEvicted', options.onSessionEvicted)
  })
}
