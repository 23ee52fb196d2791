import t from 'tap'
import { execFile } from 'node:child_process'
import { copyFile, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'

const run = promisify(execFile)
const root = join(__dirname, '..')
const fixtures = join(__dirname, 'consumer')

/**
 * The README's TypeScript blocks marked `<!-- readme-block: <file> -->`, as pasted (a block in
 * a list loses its indentation), by file name.
 */
async function readmeBlocks (): Promise<Map<string, string>> {
  const readme = await readFile(join(root, 'README.md'), 'utf8')
  const blocks = new Map<string, string>()
  for (const [, file, indent, code] of readme.matchAll(/<!-- readme-block: (\S+)[^>]*-->\n( *)```ts\n([\s\S]*?)\n *```/g)) {
    blocks.set(`readme-${file as string}`, (code as string).split('\n').map((line) => line.slice((indent as string).length)).join('\n') + '\n')
  }
  return blocks
}

/** What may ship: the build, the types and the documents; never sources, tests, bench or CI. */
const SHIPPED = /^(dist\/.+\.js|index\.d\.ts|package\.json|README\.md|SECURITY\.md|CHANGELOG\.md|LICENSE)$/

// Installing from the registry (or npm's cache) takes longer than tap's default 30 s.
t.setTimeout(300_000)

t.test('the packed tarball, installed beside fastify in a new project, works from ESM, CommonJS and strict TypeScript', async (t) => {
  const project = await mkdtemp(join(tmpdir(), 'fastify-jwt-session-consumer-'))
  t.teardown(async () => await rm(project, { recursive: true, force: true }))

  // npm test built dist/ already; --ignore-scripts packs it as it is.
  const packed = JSON.parse((await run('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', project], { cwd: root })).stdout) as Array<{ filename: string, files: Array<{ path: string }> }>
  const { filename, files } = packed[0] as typeof packed[0]
  const paths = files.map((file) => file.path)
  t.same(paths.filter((path) => !SHIPPED.test(path)), [], 'nothing but the build, the types and the documents')
  t.ok(paths.includes('dist/index.js') && paths.includes('index.d.ts') && paths.includes('LICENSE'))

  // An ESM project ("type": "module"), as a new project is today; .cts files stay CommonJS.
  await writeFile(join(project, 'package.json'), JSON.stringify({ name: 'consumer', version: '1.0.0', private: true, type: 'module' }))
  await run('npm', ['install', `./${filename}`, 'fastify@5', '@fastify/jwt@10', '@sinclair/typebox@0.34', 'ioredis@5', '@types/node@20', '--prefer-offline', '--no-audit', '--no-fund', '--ignore-scripts', '--loglevel=error'], { cwd: project })
  for (const name of await readdir(fixtures)) await copyFile(join(fixtures, name), join(project, name))
  const blocks = await readmeBlocks()
  t.same([...blocks.keys()].sort(), ['readme-beside-fastify-jwt.ts', 'readme-optional.ts', 'readme-plone.ts', 'readme-redis.ts', 'readme-typebox.ts', 'readme-use-it.ts'], 'the marked README blocks')
  for (const [name, code] of blocks) await writeFile(join(project, name), code)

  const esm = JSON.parse((await run(process.execPath, ['esm.mjs'], { cwd: project })).stdout)
  t.same(esm, { same: true, code: 'FST_JWT_SESSION_INVALID_TOKEN', me: 'ann' }, 'ESM: import jwtAuth, { jwtAuth, memoryStore }')
  const cjs = JSON.parse((await run(process.execPath, ['cjs.cjs'], { cwd: project })).stdout)
  t.same(cjs, { plugin: 'function', default: true, named: true, me: 'ann' }, 'CommonJS: require() is the plugin, with .default and .jwtAuth')

  // Strict TypeScript in both module systems, with our compiler and the project's types only;
  // the files' @ts-expect-error lines fail the check if an unknown option stops being an error.
  const tsc = require.resolve('typescript/bin/tsc')
  const checked = await run(process.execPath, [tsc, '-p', 'tsconfig.json'], { cwd: project }).then(() => '', (error: { stdout: string }) => error.stdout)
  t.equal(checked, '', 'typed.ts (ESM), typed.cts (CommonJS) and the README blocks type-check, TypeBox schemas and @fastify/jwt included')
})
