import type { BenchContext } from './BenchContext.ts';

/** One `vnic bench <name>`: measures vnic and its reference in the same run and reports rows. */
export interface Bench {
  /** The name on the command line (the backend name). */
  readonly name: string;
  /** One line for `vnic bench --help`. */
  readonly description: string;
  /** Every metric it reports, in order (`--rows` is checked against it before anything runs), when known. */
  readonly metrics?: readonly string[];
  /** Why it cannot run here (not root, a peer missing), or undefined when it can. */
  unavailable?(): Promise<string | undefined>;
  /** Runs every measurement, reporting through ctx; cleans up everything it started. */
  run(ctx: BenchContext): Promise<void>;
}
