import type { ServerResponse } from 'node:http'
import { finished } from 'node:stream'
import type { FastifyBaseLogger, FastifyReply, FastifyRequest } from 'fastify'
import type { RevocationHistory } from '../types'
import { changeSet, EVENT_TYPES, snapshotChunks, type SetSigner } from './events'
import { SharedFrames } from './shared-frames'

/** Heartbeats go out twice a second, so a follower hears from the issuer at least every second. */
const HEARTBEAT_MS = 500
/** Changes read from the history at a time. */
const PAGE = 1000
/** A snapshot waits for the reader above this many bytes buffered for it... */
const SNAPSHOT_PAUSE_BYTES = 1 << 20
/** ...and a reader that lets live events pile up past this is dropped: it reconnects and resumes. */
const MAX_BUFFERED_BYTES = 8 << 20

/** One reader of the feed. */
interface Reader {
  readonly response: ServerResponse
  /** The last cursor sent (or the one resumed from); undefined until the snapshot or the resume is under way. */
  cursor: string | undefined
  /** A pump is running; `again` asks it for one more round. */
  busy: boolean
  again: boolean
}

/** The issuer's side of the feed: every reader of `GET /@revocations`, fed from the store's history. */
export interface Publisher {
  /** Streams the feed on `reply` (the reader is authorized): a resume or a snapshot, then live changes. */
  serve (request: FastifyRequest, reply: FastifyReply): void
  /** Ends every reader's stream: the app is closing. */
  close (): void
}

/** An SSE event: an `id` line when the event moves the reader's cursor, and the SET. */
const frame = (set: string, id?: string): string => id === undefined ? `data: ${set}\n\n` : `id: ${id}\ndata: ${set}\n\n`

/** Builds the publisher of `history`, whose SETs `sign` signs. */
export function createPublisher (history: RevocationHistory, sign: SetSigner, log: FastifyBaseLogger): Publisher {
  const readers = new Set<Reader>()
  /** Readers past their snapshot or backlog: they get the heartbeats. */
  const live = new Set<Reader>()
  let heartbeat: NodeJS.Timeout | undefined
  const shared = new SharedFrames()

  function drop (reader: Reader): void {
    reader.response.destroy()
  }

  function write (reader: Reader, text: string): void {
    reader.response.write(text)
    // A slow reader is never buffered for without bound.
    if (reader.response.writableLength > MAX_BUFFERED_BYTES) drop(reader)
  }

  const beat = (): string => frame(sign(EVENT_TYPES.heartbeat, {}))

  function goLive (reader: Reader): void {
    // The consumer's "caught up" marker, at once; then every HEARTBEAT_MS with the others.
    write(reader, beat())
    live.add(reader)
    heartbeat ??= setInterval(() => {
      const text = beat()
      for (const each of live) write(each, text)
    }, HEARTBEAT_MS)
    // Called at once when the reader has gone already.
    finished(reader.response, () => {
      live.delete(reader)
      if (live.size > 0) return
      clearInterval(heartbeat)
      heartbeat = undefined
    })
  }

  /** Sends what the history holds after the reader's cursor; a reader it fell out of is dropped. */
  async function pump (reader: Reader): Promise<void> {
    if (reader.busy) {
      reader.again = true
      return
    }
    reader.busy = true
    try {
      do {
        reader.again = false
        const changes = await history.changesSince(reader.cursor as string, PAGE)
        if (changes === undefined) return drop(reader)
        for (const change of changes) write(reader, shared.get(change, () => frame(changeSet(sign, change), change.cursor)))
        reader.cursor = changes.at(-1)?.cursor ?? reader.cursor
        if (changes.length === PAGE) reader.again = true
      } while (reader.again)
    } finally {
      reader.busy = false
    }
  }

  /** Waits until the reader took in what is buffered for it, or went away. */
  async function drained (reader: Reader): Promise<void> {
    if (reader.response.writableLength <= SNAPSHOT_PAUSE_BYTES) return
    // Or the reader went away, even before this was asked: nothing more to wait for.
    await new Promise<void>((resolve) => {
      const done = (): void => {
        stop()
        reader.response.off('drain', done)
        resolve()
      }
      const stop = finished(reader.response, done)
      reader.response.once('drain', done)
    })
  }

  async function sendSnapshot (reader: Reader): Promise<string> {
    const snapshot = await history.snapshot()
    for (const chunk of snapshotChunks(snapshot)) {
      write(reader, frame(sign(EVENT_TYPES.snapshot, chunk), chunk.last ? snapshot.cursor : undefined))
      await drained(reader)
    }
    return snapshot.cursor
  }

  async function start (reader: Reader, lastEventId: unknown): Promise<void> {
    // A cursor this history holds resumes strictly after it; any other gets a snapshot.
    const known = typeof lastEventId === 'string' && (await history.changesSince(lastEventId, 0)) !== undefined
    reader.cursor = known ? lastEventId : await sendSnapshot(reader)
    await pump(reader)
    goLive(reader)
  }

  return {
    serve (request, reply) {
      reply.hijack()
      const response = reply.raw
      response.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-store', 'x-accel-buffering': 'no' })
      // A write after the stream ended (a pump in flight at close) is of no consequence.
      response.on('error', () => {})
      const reader: Reader = { response, cursor: undefined, busy: false, again: false }
      readers.add(reader)
      const unwatch = history.watch(() => {
        if (reader.cursor !== undefined) pump(reader).catch(fail)
      })
      function fail (error: unknown): void {
        log.error({ err: error }, 'fastify-jwt-session: the revocation feed could not read the store\'s history')
        drop(reader)
      }
      finished(response, () => {
        readers.delete(reader)
        unwatch()
      })
      start(reader, request.headers['last-event-id']).catch(fail)
    },
    close () {
      for (const reader of readers) reader.response.end()
    }
  }
}
