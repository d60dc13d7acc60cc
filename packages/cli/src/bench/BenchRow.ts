import type { BenchLimit } from './BenchLimit.ts';

/**
 * One measured row of `vnic bench` (`--json` prints one per line). `reference` is the same metric
 * measured in the same run on the reference path (a C loop, DPDK, the in-process backend), or
 * null where there is none; `ratio` is vnic / reference (null without a reference).
 */
export interface BenchRow {
  /** The bench that produced the row: the backend name (`virtio-net`, `vhost-net`, ...). */
  readonly bench: string;
  /** Metric name, e.g. `tx-64B-mpps`. */
  readonly metric: string;
  /** Unit of `vnic` and `reference`: `Mpps`, `Gbit/s`, `MiB`, `ms`. */
  readonly unit: string;
  /** vnic's value. */
  readonly vnic: number;
  /** The reference's value measured in the same run, or null. */
  readonly reference: number | null;
  /** vnic / reference (higher is better for rates; for costs such as MiB or ms lower is better), or null. */
  readonly ratio: number | null;
  /** What the reference is, in a few words (e.g. `C writev loop`). */
  readonly referenceName?: string;
  /** Anything a reader needs to interpret the row (samples, spread, what limited it). */
  readonly note?: string;
  /** What the row's load check found: `source-limited` rows measure their load, not the device. */
  readonly limit: BenchLimit;
}
