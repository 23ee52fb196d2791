import neostandard from 'neostandard'

export default [
  ...neostandard({
    ts: true,
    ignores: ['dist/**', 'coverage/**', '.tap/**']
  }),
  {
    rules: {
      // `void promise` as a statement marks a promise left to run on its own, on purpose
      // (its rejections are handled inside); elsewhere `void` stays an error.
      'no-void': ['error', { allowAsStatement: true }]
    }
  }
]
