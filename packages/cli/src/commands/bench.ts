import type { CliIo } from '../CliIo.ts';
import type { BenchContext } from '../bench/BenchContext.ts';
import type { BenchRow } from '../bench/BenchRow.ts';
import { benches } from '../bench/benches.ts';
import { formatBenchTable } from '../bench/formatBenchTable.ts';
import { errorMessage } from '@vnic/core';

/** Options of `vnic bench <name>`. */
export interface BenchOptions {
  readonly json: boolean;
  readonly seconds?: number;
  /** Only these metrics (`--rows a,b`): the bench measures and prints only them; undefined for every row. */
  readonly rows?: readonly string[];
}

/**
 * `vnic bench <name> [--json] [--rows a,b]`: runs one bench; prints a table (or JSON lines with
 * --json), with --rows only the rows named (a bench skips the measurements no named row needs).
 * Exit 0 on success, 2 for an unknown bench, one that cannot run here or a --rows name the bench
 * did not produce (the message lists the names it has), 1 when it fails.
 */
export async function bench(name: string, opts: BenchOptions, io: CliIo): Promise<number> {
  const load = benches[name];
  if (load === undefined) {
    const known = Object.keys(benches);
    io.err(`vnic bench: no bench named "${name}"; known: ${known.length > 0 ? known.join(', ') : '(none yet)'}\n`);
    return 2;
  }
  const b = await load();
  const unknown = b.metrics === undefined ? [] : (opts.rows ?? []).filter((m) => !b.metrics!.includes(m));
  if (unknown.length > 0) {
    io.err(`vnic bench ${name}: no row named ${unknown.map((m) => `"${m}"`).join(', ')}; its rows: ${b.metrics!.join(', ')}\n`);
    return 2;
  }
  const why = await b.unavailable?.();
  if (why !== undefined) {
    io.err(`vnic bench ${name}: cannot run here: ${why}\n`);
    return 2;
  }
  const rows: BenchRow[] = [];
  const wanted = opts.rows === undefined ? undefined : new Set(opts.rows);
  /** Every metric the bench reported, asked for or not (to name them when --rows has a typo). */
  const seen: string[] = [];
  const say = (text: string): void => (opts.json ? io.err(text) : io.out(text));
  const ctx: BenchContext = {
    io,
    json: opts.json,
    seconds: opts.seconds,
    ...(wanted === undefined ? {} : { rows: wanted }),
    progress: (text) => say(`[bench ${name}] ${text}\n`),
    row: (row) => {
      seen.push(row.metric);
      if (wanted !== undefined && !wanted.has(row.metric)) return;
      rows.push(row);
      if (opts.json) io.out(`${JSON.stringify(row)}\n`);
    },
  };
  try {
    await b.run(ctx);
  } catch (err) {
    io.err(`vnic bench ${name} failed: ${errorMessage(err)}\n`);
    if (!opts.json && rows.length > 0) io.out(formatBenchTable(rows));
    return 1;
  }
  if (!opts.json) io.out(formatBenchTable(rows));
  const missing = [...(wanted ?? [])].filter((m) => !rows.some((r) => r.metric === m));
  if (missing.length > 0) {
    io.err(
      `vnic bench ${name}: no row named ${missing.map((m) => `"${m}"`).join(', ')}${seen.length > 0 ? `; rows measured: ${seen.join(', ')}` : ''} (run it without --rows for every row)\n`,
    );
    return 2;
  }
  return 0;
}
