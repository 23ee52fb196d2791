/**
 * The cut-off a value under the store's prefix stands for. A value that is not a number was
 * not written by this store: it revokes every token its key names rather than none (fail closed).
 */
export function parseCutoff (value: string): number {
  const cutoff = Number(value)
  return value !== '' && Number.isFinite(cutoff) ? cutoff : Number.MAX_SAFE_INTEGER
}

/** The largest cut-off among MGET's answers, or undefined when no key is set. */
export function largestCutoff (values: ReadonlyArray<string | null>): number | undefined {
  let largest: number | undefined
  for (const value of values) {
    if (value === null) continue
    const cutoff = parseCutoff(value)
    if (largest === undefined || cutoff > largest) largest = cutoff
  }
  return largest
}
