import { request as httpRequest } from 'node:http'
import { test } from 'tap'
import { SharedFrames } from '../lib/feed/shared-frames'
import type { RevocationChange } from '../lib/types'
import { fakeClock } from './helpers'
import { FEED_HEADERS, issuerApp, memoryStore } from './feed-helpers'

/*
 * The issuer signs a change once for all its readers: two readers resuming from the same
 * cursor receive the same signed event, while a change that differs in anything, or a frame
 * older than ten seconds, is signed afresh.
 */

const ended = (sid: string, cursor: string): RevocationChange => ({ cursor, kind: 'session', sid, record: { generation: 0, renewedAt: 0, ended: true }, expiresAt: 2_000_000_000 })

/** The `data:` lines of the first `count` events of the feed resumed at `cursor`. */
async function resumedEvents (url: string, cursor: string, count: number): Promise<string[]> {
  const text = await new Promise<string>((resolve, reject) => {
    const request = httpRequest(`${url}/@revocations`, { headers: { ...FEED_HEADERS, 'last-event-id': cursor } }, (response) => {
      let text = ''
      response.setEncoding('utf8')
      response.on('data', (chunk: string) => {
        text += chunk
        if ((text.match(/\n\n/g) ?? []).length < count) return
        request.destroy()
        resolve(text)
      })
    })
    request.on('error', reject)
    request.end()
  })
  return [...text.matchAll(/^data: (.*)$/gm)].map((match) => match[1] as string).slice(0, count)
}

test('two readers resuming from the same cursor get the same signed changes', async (t) => {
  const store = memoryStore()
  const issuer = await issuerApp(t, store)
  const cursor = store.history.snapshot().cursor
  const expiresAt = Math.floor(Date.now() / 1000) + 60
  store.end('s-1', expiresAt)
  store.end('s-2', expiresAt)
  const first = await resumedEvents(issuer.url, cursor, 2)
  const second = await resumedEvents(issuer.url, cursor, 2)
  t.equal(first.length, 2)
  t.same(second, first, 'one signature per change, shared')
  t.not(first[0], first[1], 'each change its own')
})

test('a frame is shared only for the very same change, for ten seconds, and a bounded number of them are kept', async (t) => {
  const clock = fakeClock(t)
  const frames = new SharedFrames()
  let signed = 0
  const make = (): string => `frame-${++signed}`
  t.equal(frames.get(ended('s-1', 'c.1'), make), 'frame-1')
  t.equal(frames.get(ended('s-1', 'c.1'), make), 'frame-1', 'the same change: the same frame')
  t.equal(frames.get(ended('s-1', 'c.2'), make), 'frame-2', 'another cursor: another frame')
  t.equal(frames.get({ ...ended('s-1', 'c.1'), expiresAt: 1 }, make), 'frame-3', 'another expiry: another frame')
  clock.tick(10_001)
  t.equal(frames.get(ended('s-1', 'c.1'), make), 'frame-4', 'older than ten seconds: signed afresh')
  for (let index = 0; index < 5000; index++) frames.get(ended(`s-${index}`, `d.${index}`), make)
  const before = signed
  t.equal(frames.get(ended('s-4999', 'd.4999'), make), `frame-${before}`, 'a recent one is still kept')
  frames.get(ended('s-0', 'd.0'), make)
  t.equal(signed, before + 1, 'the oldest were dropped past the bound')
})
