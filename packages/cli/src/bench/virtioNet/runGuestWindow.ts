import { performance } from 'node:perf_hooks';
import { CliError } from '../../CliError.ts';
import type { GuestWindow } from './GuestWindow.ts';
import type { RingRecycler } from './RingRecycler.ts';

/** How long the guest pumps before giving the event loop a turn (signals, child output). */
const SLICE_MS = 20;
/** How long the guest sleeps when the device has not used anything yet. */
const IDLE_MS = 0.05;
const idleCell = new Int32Array(new SharedArrayBuffer(4));

/**
 * Runs the bench guest on the main thread: pumps `rec` for `warmupMs`, then reads `counter` (a
 * device counter from shared memory), pumps for `seconds` more and reads it again. Between
 * slices of 20 ms it yields to the event loop; it throws when `interrupted()` turns true (Ctrl-C:
 * the caller's cleanup then closes the device, so the guest must not touch memory again).
 */
export async function runGuestWindow(
  rec: RingRecycler,
  options: { readonly warmupMs: number; readonly seconds: number; readonly counter: () => number; readonly interrupted: () => boolean },
): Promise<GuestWindow> {
  const t0 = performance.now();
  let start = -1;
  let startCount = 0;
  let startElements = 0;
  for (;;) {
    if (options.interrupted()) throw new CliError('interrupted', 'interrupted');
    const sliceEnd = performance.now() + SLICE_MS;
    while (performance.now() < sliceEnd) {
      if (rec.pump() === 0) Atomics.wait(idleCell, 0, 0, IDLE_MS);
    }
    const now = performance.now();
    if (start < 0 && now - t0 >= options.warmupMs) {
      startCount = options.counter();
      startElements = rec.elements;
      start = performance.now();
    } else if (start >= 0 && now - start >= options.seconds * 1000) {
      const count = options.counter();
      const end = performance.now();
      return { packets: count - startCount, seconds: (end - start) / 1000, guestElements: rec.elements - startElements };
    }
    await new Promise<void>((resolve) => setImmediate(resolve));
  }
}
