import type { Headroom } from './Headroom.ts';

/** The least offered load, relative to the measured rate, that says the source had headroom. */
export const HEADROOM_FACTOR = 1.2;
/** A thread on a CPU at least this fraction of the wall time is busy. */
const BUSY = 0.9;

/** What a bench knows about the load of one measurement (any of the two pairs, or both). */
export interface HeadroomSample {
  /** Frames the source offered over the period (the device's plus those refused or dropped for it). */
  readonly offered?: number;
  /** Frames the device moved over the same period. */
  readonly measured?: number;
  /**
   * Fraction of the wall time the source was not waiting for the device (0..1): the share it did
   * not spend backing off on a full queue (a flooder), or its thread's CPU share (a guest that
   * sleeps whenever the device has used nothing). Idle time must be waiting, not a lost CPU.
   */
  readonly sourceBusy?: number;
  /** Fraction of the wall time the device's busiest thread was on a CPU (0..1). */
  readonly deviceBusy?: number;
}

const pct = (f: number): string => `${Math.round(f * 100)}%`;

/**
 * The load check of every bench row: the source had headroom when it offered at least
 * {@link HEADROOM_FACTOR} times what the device moved, when it was idle long enough to have
 * offered that much (on a CPU at most 1 / {@link HEADROOM_FACTOR} of the wall time: a source that
 * waits for the device or backs off on a full queue), or when the device's thread was busy
 * (≥ 90% of the wall time) while the source's was not; otherwise the row is source-limited.
 * Throws a RangeError when the sample holds neither pair (a row must be checked).
 */
export function checkHeadroom(s: HeadroomSample): Headroom {
  const parts: string[] = [];
  let ok = false;
  let checked = false;
  if (s.offered !== undefined && s.measured !== undefined) {
    checked = true;
    if (s.measured <= 0) parts.push(`offered ${s.offered} frames, the device moved none`);
    else {
      const factor = s.offered / s.measured;
      ok ||= factor >= HEADROOM_FACTOR;
      parts.push(`offered ${factor.toFixed(2)}x the measured rate`);
    }
  }
  if (s.sourceBusy !== undefined && s.deviceBusy !== undefined) {
    checked = true;
    ok ||= s.sourceBusy <= 1 / HEADROOM_FACTOR || (s.deviceBusy >= BUSY && s.sourceBusy < BUSY);
    parts.push(`source ${pct(s.sourceBusy)} busy, device thread ${pct(s.deviceBusy)}`);
  }
  if (!checked) throw new RangeError('checkHeadroom: neither offered/measured nor sourceBusy/deviceBusy given');
  return { sourceLimited: !ok, text: parts.join(', ') };
}
