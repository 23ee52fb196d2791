import { test } from 'tap'
import madge from 'madge'

/*
 * The folders of lib/ tell a request's story, and dependencies run one way, from the options
 * up to the plugin. A file may import from its own layer or a lower one, never a higher one,
 * and no import cycle exists (type imports included).
 */
const LAYERS: ReadonlyArray<readonly string[]> = [
  // ops/ (events and health) imports nothing of lib/: at the bottom, every layer may call down to it.
  ['../index.d.ts', 'errors.ts', 'types.ts', 'ops/'],
  ['options/'],
  ['stores/'],
  ['jwt/'],
  ['sessions/'],
  ['feed/'],
  ['http/', 'throttle/'],
  ['routes/'],
  ['compat/'],
  ['plugin.ts', 'index.ts']
]

function layerOf (file: string): number {
  const layer = LAYERS.findIndex((prefixes) => prefixes.some((prefix) => file.startsWith(prefix)))
  if (layer === -1) throw new Error(`${file} is in no layer: add its folder to LAYERS`)
  return layer
}

test('lib/ has no import cycle, and every import goes to the same layer or a lower one', async (t) => {
  const graph = await madge('lib', { fileExtensions: ['ts'] })
  t.same(graph.circular(), [], 'no cycle')
  const upward: string[] = []
  for (const [file, imports] of Object.entries(graph.obj())) {
    for (const imported of imports) {
      if (layerOf(imported) > layerOf(file)) upward.push(`${file} -> ${imported}`)
    }
  }
  t.same(upward, [], 'no import from a higher layer')
  t.ok(Object.keys(graph.obj()).length > 30, 'the graph holds the whole library')
})
