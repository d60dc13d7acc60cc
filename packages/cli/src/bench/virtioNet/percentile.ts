/**
 * The nearest-rank percentile `q` (0 < q <= 1) of `sorted` (ascending): the smallest value with
 * at least q of the values at or below it (what the C reference computes for its samples).
 */
export function percentile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) throw new RangeError('percentile of no samples');
  if (!(q > 0 && q <= 1)) throw new RangeError(`percentile ${q} is outside (0, 1]`);
  const rank = Math.min(sorted.length, Math.max(1, Math.ceil(q * sorted.length - 1e-9)));
  return sorted[rank - 1]!;
}
