import type { BenchContext } from './BenchContext.ts';

/** True when `--rows` asked for any of `metrics` (or gave no list): a bench measures a group of rows only then. */
export function wantsRow(ctx: Pick<BenchContext, 'rows'>, ...metrics: readonly string[]): boolean {
  return ctx.rows === undefined || metrics.some((m) => ctx.rows!.has(m));
}
