import type { SOURCE_LIMITED } from './SOURCE_LIMITED.ts';

/**
 * What limited a bench row as far as its load check can tell (`BenchRow.limit`, in `--json`):
 * `device` when every side with a source of its own had headroom (the row measures the device or
 * the reference), {@link SOURCE_LIMITED} when a side's load could not outrun what it fed (the row
 * measures its load), `paced` for a row whose source runs at a set rate on purpose (a count per
 * frame at that rate, e.g. notifications per frame: the device keeping pace is the point, so no
 * headroom is expected; the note gives the rate), `no-load` for a row with no offered load to
 * check (a cost, latency or memory row, a closed loop: the note says which), `unchecked` for a
 * row built without a check.
 */
export type BenchLimit = 'device' | typeof SOURCE_LIMITED | 'paced' | 'no-load' | 'unchecked';
