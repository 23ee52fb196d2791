import diagnostics from 'node:diagnostics_channel'
import type { FastifyInstance } from 'fastify'
import { Counter, Histogram, Registry } from 'prom-client'

/**
 * `/metrics` for Prometheus: the plugin's events counted by event and code, and store call
 * time, from its diagnostics_channel channels. The subscriptions end with the app.
 */
export function exposeMetrics (app: FastifyInstance): void {
  const registry = new Registry()
  const events = new Counter({ name: 'jwt_session_events_total', help: 'Session events', labelNames: ['event', 'code'], registers: [registry] })
  const storeCalls = new Histogram({ name: 'jwt_session_store_call_seconds', help: 'Store call time', labelNames: ['ok'], registers: [registry] })
  const listeners: Array<[string, (message: unknown) => void]> = [
    ['store-call', (message) => {
      const { durationMs, ok } = message as { durationMs: number, ok: boolean }
      storeCalls.observe({ ok: String(ok) }, durationMs / 1000)
    }]
  ]
  for (const event of ['login', 'login-failed', 'renew', 'reuse', 'logout', 'refused']) {
    listeners.push([event, (message) => {
      const { code, reason } = message as { code?: string, reason?: string }
      events.inc({ event, code: code ?? reason ?? '' })
    }])
  }
  for (const [event, listener] of listeners) diagnostics.subscribe(`fastify-jwt-session:${event}`, listener)
  app.addHook('onClose', async () => {
    for (const [event, listener] of listeners) diagnostics.unsubscribe(`fastify-jwt-session:${event}`, listener)
  })
  app.get('/metrics', { schema: { hide: true } }, async (_request, reply) => await reply.type(registry.contentType).send(await registry.metrics()))
}
