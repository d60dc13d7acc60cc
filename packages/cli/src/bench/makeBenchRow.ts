import type { BenchRow } from './BenchRow.ts';

/** Builds a BenchRow, computing the ratio vnic / reference (rounded to 3 decimals). */
export function makeBenchRow(
  bench: string,
  metric: string,
  unit: string,
  vnic: number,
  reference: number | null,
  extra: { referenceName?: string; note?: string } = {},
): BenchRow {
  const ratio = reference === null || reference === 0 || !Number.isFinite(vnic) ? null : Math.round((vnic / reference) * 1000) / 1000;
  return { bench, metric, unit, vnic, reference, ratio, ...extra };
}
