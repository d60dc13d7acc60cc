import type { BenchRow } from './BenchRow.ts';
import { isSourceLimited } from './isSourceLimited.ts';
import { SOURCE_LIMITED } from './SOURCE_LIMITED.ts';

function num(v: number | null): string {
  if (v === null) return '-';
  if (v === 0) return '0';
  const abs = Math.abs(v);
  return abs >= 100 ? v.toFixed(0) : abs >= 10 ? v.toFixed(1) : abs >= 1 ? v.toFixed(2) : v.toFixed(3);
}

/**
 * Renders rows as an aligned text table: metric, unit, vnic, reference, ratio, reference name,
 * note. A source-limited row says so after its ratio.
 */
export function formatBenchTable(rows: readonly BenchRow[]): string {
  const header = ['bench', 'metric', 'unit', 'vnic', 'reference', 'ratio', 'reference is', 'note'];
  const cells = rows.map((r) => [
    r.bench,
    r.metric,
    r.unit,
    num(r.vnic),
    num(r.reference),
    `${r.ratio === null ? '-' : `${r.ratio.toFixed(2)}x`}${isSourceLimited(r) ? ` ${SOURCE_LIMITED}` : ''}`,
    r.referenceName ?? '',
    r.note ?? '',
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i]!.length)));
  const right = new Set([3, 4, 5]);
  const line = (c: readonly string[]): string =>
    c
      .map((v, i) => (right.has(i) ? v.padStart(widths[i]!) : v.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...cells.map(line)].join('\n') + '\n';
}
