import type { FastifyInstance } from 'fastify'
import { createLocalKeyring } from '../jwt/local-keyring'
import { createRemoteKeyring } from '../jwt/remote-keyring'
import type { ResolvedOptions } from '../options/resolved'
import type { RevocationHistory } from '../types'
import { createSetSigner } from './events'
import { createFollower, type Follower } from './follower'
import { createPublisher, type Publisher } from './publisher'
import { createSetReader } from './reader'

/** What the options ask of the feed: a publisher (issuer), a follower (verify-only service), or neither. */
export interface FeedEnds {
  readonly publisher: Publisher | undefined
  readonly follower: Follower | undefined
}

/**
 * Builds the feed's end the options ask for and ties it to the app's life: a publisher's
 * readers are let go when the app closes; a follower connects once the app is ready (the
 * registration does not wait for it) and stops when it closes.
 */
export function createFeedEnds (fastify: FastifyInstance, options: ResolvedOptions): FeedEnds {
  const { revocationFeed, followRevocations, keySource } = options
  // The options require an issuer, a key that signs and a store with a history for a feed.
  const issuer = options.issuer as string
  if (revocationFeed !== undefined) {
    const history = (options.revocationStore as { history: RevocationHistory }).history
    const publisher = createPublisher(history, createSetSigner(keySource, issuer), fastify.log)
    fastify.addHook('preClose', (done) => {
      publisher.close()
      done()
    })
    return { publisher, follower: undefined }
  }
  if (followRevocations === undefined) return { publisher: undefined, follower: undefined }
  const follower = createFollower(followRevocations, createSetReader(setKeyring(options), { ...followRevocations, issuer, clockTolerance: options.clockTolerance }), fastify.log)
  fastify.addHook('onReady', (done) => {
    follower.start()
    done()
  })
  fastify.addHook('onClose', (_instance, done) => {
    follower.stop()
    done()
  })
  return { publisher: undefined, follower }
}

/**
 * The keys that verify the issuer's SETs: the service's own (its secret, or the issuer's JWKS),
 * with the issuer checked but no audience, which a SET does not carry.
 */
function setKeyring (options: ResolvedOptions): ReturnType<typeof createLocalKeyring> {
  const setOptions = { ...options, audience: undefined }
  const { keySource } = options
  return keySource.kind === 'jwks' ? createRemoteKeyring(keySource.jwks, setOptions) : createLocalKeyring(keySource, setOptions)
}
