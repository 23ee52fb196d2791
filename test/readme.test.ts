import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { test } from 'tap'
import { CLOCK_SKEW } from '../lib/jwt/clock'
import { DEFAULTS, PLUGIN_OPTIONS } from '../lib/options/defaults'

// The README's options table is what users read; the option lists and defaults in
// lib/options/defaults.ts are what the plugin does. This keeps the two saying the same thing.
const readme = readFileSync(join(__dirname, '..', 'README.md'), 'utf8')

/** The rows of the first table under `heading`, as arrays of cells. */
function tableUnder (heading: string): string[][] {
  const start = readme.indexOf(`\n${heading}\n`)
  if (start === -1) throw new Error(`no "${heading}" section in the README`)
  const section = readme.slice(start + heading.length + 2).split(/\n## /)[0] as string
  return section.split('\n')
    .filter((line) => line.startsWith('| ') && !line.startsWith('| ---'))
    .slice(1)
    // Split on cell borders, not on the escaped pipes of union types (`'a' \| 'b'`).
    .map((line) => line.slice(2, -2).split(/(?<!\\) \| /))
}

/** The backticked option names of a first cell, such as `` `onLogin`, `onLogout` ``. */
function namesIn (cell: string): string[] {
  return [...cell.matchAll(/`([^`]+)`/g)].map((match) => match[1] as string)
}

const rows = tableUnder('## Options')

test('the README options table lists every option the plugin takes, and no other', async (t) => {
  const documented = rows.flatMap((row) => namesIn(row[0] as string))
  t.same([...documented].sort(), [...PLUGIN_OPTIONS].sort())
})

test('the README gives each default the plugin uses', async (t) => {
  const scalarDefaults = Object.entries(DEFAULTS).filter(([, value]) => typeof value !== 'object')
  t.ok(scalarDefaults.length >= 6, 'the scalar defaults are checked')
  for (const [name, value] of scalarDefaults) {
    const row = rows.find((cells) => namesIn(cells[0] as string).includes(name))
    const shown = typeof value === 'string' ? `\`'${value}'\`` : `\`${String(value)}\``
    t.ok(row?.[2]?.includes(shown), `${name}: the README shows ${shown}, got ${row?.[2]}`)
  }
})

test('the README gives the default route paths, the cookie names and the throttle limits', async (t) => {
  const routes = tableUnder('## Routes').map((cells) => cells[0])
  for (const path of Object.values(DEFAULTS.routes)) {
    t.ok(routes.some((cell) => cell?.endsWith(` ${path}\``)), `the Routes table shows ${path}`)
  }
  t.ok(readme.includes(`\`'${DEFAULTS.cookie.name}'\``), 'the default cookie name')
  t.ok(readme.includes(`\`'${DEFAULTS.cookie.csrfHeader}'\``), 'the default CSRF header')
  const { perLogin, perAddress } = DEFAULTS.loginThrottle
  const throttleRow = rows.find((cells) => namesIn(cells[0] as string).includes('loginThrottle'))
  t.ok(throttleRow?.[2]?.includes(`${perLogin.max} failures per login name, ${perAddress.max} per address, per ${perLogin.window.replace('m', '')} minutes`), 'the throttle row gives the default limits')
})

test('the README states the bound on clock skew the plugin uses', async (t) => {
  t.ok(readme.includes(`**Clocks.** Instances' clocks may disagree by up to ${CLOCK_SKEW / 1_000_000} seconds (\`CLOCK_SKEW\`)`))
})
