import { test } from 'tap'
import diagnostics from 'node:diagnostics_channel'
import { Counter, Histogram, Registry } from 'prom-client'
import { trace } from '@opentelemetry/api'
import { bearer, buildApp, login } from './helpers'

// The README's "Metrics and traces" recipes, as written there.
test('prom-client: counters by event and code, a histogram of store call time', async (t) => {
  const registry = new Registry()
  const events = new Counter({ name: 'jwt_session_events_total', help: 'Session events', labelNames: ['event', 'code'], registers: [registry] })
  const storeCalls = new Histogram({ name: 'jwt_session_store_call_seconds', help: 'Store call time', labelNames: ['ok'], registers: [registry] })
  const listeners: Array<[string, (message: unknown) => void]> = []
  for (const event of ['login', 'login-failed', 'renew', 'reuse', 'logout', 'refused']) {
    const listener = (message: unknown): void => {
      const { code, reason } = message as { code?: string, reason?: string }
      events.inc({ event, code: code ?? reason ?? '' })
    }
    diagnostics.subscribe(`fastify-jwt-session:${event}`, listener)
    listeners.push([`fastify-jwt-session:${event}`, listener])
  }
  const timed = (message: unknown): void => {
    const { durationMs, ok } = message as { durationMs: number, ok: boolean }
    storeCalls.observe({ ok: String(ok) }, durationMs / 1000)
  }
  diagnostics.subscribe('fastify-jwt-session:store-call', timed)
  listeners.push(['fastify-jwt-session:store-call', timed])
  t.teardown(() => { for (const [name, listener] of listeners) diagnostics.unsubscribe(name, listener) })

  const app = await buildApp(t)
  const token = await login(app)
  t.equal((await app.inject({ url: '/me' })).statusCode, 401)
  t.equal((await app.inject({ method: 'POST', url: '/@logout', headers: bearer(token) })).statusCode, 204)
  const text = await registry.metrics()
  t.match(text, /jwt_session_events_total\{event="login",code=""\} 1/)
  t.match(text, /jwt_session_events_total\{event="refused",code="FST_JWT_SESSION_[A-Z_]+"\} 1/)
  t.match(text, /jwt_session_events_total\{event="logout",code=""\} 1/)
  t.match(text, /jwt_session_store_call_seconds_count\{ok="true"\} [1-9]/)
})

test('OpenTelemetry: a span per store call, from the store-call channel', async (t) => {
  // @opentelemetry/api alone: with no SDK registered its tracer is the no-op one; the recipe runs the same.
  const tracer = trace.getTracer('fastify-jwt-session')
  const spans: string[] = []
  const listener = (message: unknown): void => {
    const { durationMs, ok } = message as { durationMs: number, ok: boolean }
    const end = Date.now()
    const span = tracer.startSpan('jwt-session store call', { startTime: end - durationMs, attributes: { ok } })
    span.end(end)
    spans.push(span.spanContext().traceId)
  }
  diagnostics.subscribe('fastify-jwt-session:store-call', listener)
  t.teardown(() => diagnostics.unsubscribe('fastify-jwt-session:store-call', listener))
  const app = await buildApp(t)
  const token = await login(app)
  t.equal((await app.inject({ method: 'POST', url: '/@logout', headers: bearer(token) })).statusCode, 204)
  t.ok(spans.length > 0, 'a span for each store call')
})
