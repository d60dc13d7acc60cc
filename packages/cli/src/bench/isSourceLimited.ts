import type { BenchRow } from './BenchRow.ts';
import { SOURCE_LIMITED } from './SOURCE_LIMITED.ts';

/** True when the row's load check found its source, not the device, to be the limit. */
export function isSourceLimited(row: BenchRow): boolean {
  return row.limit === SOURCE_LIMITED;
}
