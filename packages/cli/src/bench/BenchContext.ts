import type { CliIo } from '../CliIo.ts';
import type { BenchRow } from './BenchRow.ts';

/** What a bench gets: where to report progress and rows, and the options of the command line. */
export interface BenchContext {
  /** The command's output (progress goes to stderr with --json, so stdout stays JSON lines). */
  readonly io: CliIo;
  /** True with --json. */
  readonly json: boolean;
  /** Seconds per measurement (--seconds); each bench picks its own default when undefined. */
  readonly seconds: number | undefined;
  /** The metrics asked for with --rows (only those are measured and reported), or undefined for every row. */
  readonly rows?: ReadonlySet<string>;
  /** A progress line for a step that takes more than a second. */
  progress(text: string): void;
  /** Records one measured row (printed as JSON at once with --json, in the table at the end otherwise). */
  row(row: BenchRow): void;
}
