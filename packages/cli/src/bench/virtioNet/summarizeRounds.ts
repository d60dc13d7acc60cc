/**
 * Median, minimum and maximum of the rates one side reached in its windows (the bench alternates
 * vnic and reference windows, so slow phases of a shared machine hit both sides alike).
 */
export function summarizeRounds(values: readonly number[]): { readonly median: number; readonly min: number; readonly max: number } {
  if (values.length === 0) throw new RangeError('no rounds to summarize');
  const s = [...values].sort((a, b) => a - b);
  const mid = s.length >> 1;
  const median = s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
  return { median, min: s[0]!, max: s[s.length - 1]! };
}
