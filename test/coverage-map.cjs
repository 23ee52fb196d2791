'use strict'
// tap instruments these files for every test: the library, not the tests or their helpers.
const { readdirSync } = require('node:fs')

const files = readdirSync('lib', { recursive: true })
  .filter((file) => file.endsWith('.ts'))
  .map((file) => `lib/${file}`)

module.exports = () => files
