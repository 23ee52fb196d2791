/**
 * The soak: a server with a bounded memory store gets a new token on every request for
 * `seconds`, and every tenth request logs its token out, so both the verified-token cache and
 * the store reach their bounds. RSS is sampled throughout; once the bounds are reached it
 * should stay flat. Not part of the package.
 */
import autocannon from 'autocannon'
import Fastify from 'fastify'
import jwtAuth from 'fastify-jwt-session'
import { makeMaterial, startServer, stopServer } from './http'

async function rss (port: number): Promise<number> {
  const response = await fetch(`http://127.0.0.1:${port}/rss`)
  return ((await response.json()) as { rss: number }).rss
}

export async function soak (seconds: number): Promise<unknown> {
  const material = await makeMaterial(1, 0)
  const signer = Fastify()
  await signer.register(jwtAuth, { secret: material.secret, routes: false })
  const { port, child } = await startServer('soak', material, undefined)
  const samples: Array<{ second: number, rssMiB: number }> = []
  const started = Date.now()
  const sample = async (): Promise<void> => {
    samples.push({ second: Math.round((Date.now() - started) / 1000), rssMiB: Number(((await rss(port)) / 2 ** 20).toFixed(1)) })
  }
  await sample()
  const timer = setInterval(() => { void sample() }, Math.max(1, Math.floor(seconds / 6)) * 1000)
  let count = 0
  const result = await autocannon({
    url: `http://127.0.0.1:${port}/hello`,
    connections: 32,
    duration: seconds,
    requests: [{
      setupRequest: (request) => {
        count++
        const token = signer.jwtAuth.sign({ sub: `soak-${count}` })
        return count % 10 === 0
          ? { ...request, method: 'POST', path: '/@logout', headers: { authorization: `Bearer ${token}` } }
          : { ...request, method: 'GET', path: '/hello', headers: { authorization: `Bearer ${token}` } }
      }
    }]
  })
  clearInterval(timer)
  await sample()
  await stopServer(child)
  await signer.close()
  console.log(`soak: ${seconds} s, ${result.requests.total} requests with a new token each (logouts past the store's bound answer 503, by design)`)
  console.log(`RSS MiB: ${samples.map((s) => `${s.second}s ${s.rssMiB}`).join(', ')}\n`)
  return { seconds, requests: result.requests.total, non2xx: result.non2xx, samples }
}
