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
}

/**
 * `vnic bench <name> [--json]`: runs one bench; prints a table (or JSON lines with --json).
 * Exit 0 on success, 2 for an unknown bench or one that cannot run here, 1 when it fails.
 */
export async function bench(name: string, opts: BenchOptions, io: CliIo): Promise<number> {
  const load = benches[name];
  if (load === undefined) {
    const known = Object.keys(benches);
    io.err(`vnic bench: no bench named "${name}"; known: ${known.length > 0 ? known.join(', ') : '(none yet)'}\n`);
    return 2;
  }
  const b = await load();
  const why = await b.unavailable?.();
  if (why !== undefined) {
    io.err(`vnic bench ${name}: cannot run here: ${why}\n`);
    return 2;
  }
  const rows: BenchRow[] = [];
  const say = (text: string): void => (opts.json ? io.err(text) : io.out(text));
  const ctx: BenchContext = {
    io,
    json: opts.json,
    seconds: opts.seconds,
    progress: (text) => say(`[bench ${name}] ${text}\n`),
    row: (row) => {
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
  return 0;
}
