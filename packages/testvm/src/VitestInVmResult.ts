import type { RunInVmResult } from './RunInVmResult.ts';

/** One failed test of an in-VM vitest run. */
export interface VitestInVmFailure {
  /** File, relative to the project directory. */
  readonly file: string;
  /** Full test name (describe blocks and title). */
  readonly name: string;
  /** The failure messages vitest reported. */
  readonly messages: readonly string[];
}

/** What runVitestInVm() returns. */
export interface VitestInVmResult {
  /** vitest's exit code in the guest. */
  readonly exitCode: number;
  readonly passed: number;
  readonly failed: number;
  /** Skipped + todo tests. */
  readonly skipped: number;
  /** Test files that failed to load or run (a suite-level error), with the message. */
  readonly failedFiles: readonly { readonly file: string; readonly message: string }[];
  readonly failures: readonly VitestInVmFailure[];
  /** vitest's JSON report as written in the guest. */
  readonly report: unknown;
  /** The VM run (console, output, timings). */
  readonly run: RunInVmResult;
}
