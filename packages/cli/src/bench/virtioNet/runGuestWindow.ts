import { performance } from 'node:perf_hooks';
import { CliError } from '../../CliError.ts';
import type { GuestWindow } from './GuestWindow.ts';
import type { RingRecycler } from './RingRecycler.ts';

/** How long the guest pumps before giving the event loop a turn (signals, child output). */
const SLICE_MS = 20;
/**
 * How long the guest sleeps when the device has not used anything yet: far less than the ~1 ms a
 * device needs to go through a 1024-entry ring at 1 Mpps, and long enough that polling costs the
 * guest ~0.2-0.4 us of CPU per frame (0.05 ms doubled that, CPU the device lacks on 2 cores).
 */
const IDLE_MS = 0.2;
const idleCell = new Int32Array(new SharedArrayBuffer(4));

/**
 * Runs the bench guest on the main thread: pumps `rec` for `warmupMs`, then reads `counter` (a
 * device counter from shared memory), pumps for `seconds` more and reads it again. When a pump
 * finds nothing it sleeps `idleMs` (default 0.2 ms; 0 polls without sleeping, as a DPDK guest on a
 * CPU of its own does). Between slices of 20 ms it yields to the event loop; it throws when
 * `interrupted()` turns true (Ctrl-C: the caller's cleanup then closes the device, so the guest
 * must not touch memory again). `rec` may be several recyclers behind one pump().
 */
export async function runGuestWindow(
  rec: Pick<RingRecycler, 'pump' | 'elements'>,
  options: {
    readonly warmupMs: number;
    readonly seconds: number;
    readonly counter: () => number;
    readonly interrupted: () => boolean;
    readonly idleMs?: number;
  },
): Promise<GuestWindow> {
  const idleMs = options.idleMs ?? IDLE_MS;
  const t0 = performance.now();
  const first = options.counter();
  let start = -1;
  let startCount = 0;
  let startElements = 0;
  let busyMs = 0;
  let startBusyMs = 0;
  for (;;) {
    if (options.interrupted()) throw new CliError('interrupted', 'interrupted');
    let t = performance.now();
    const sliceEnd = t + SLICE_MS;
    while (t < sliceEnd) {
      const n = rec.pump();
      const after = performance.now();
      if (n > 0) busyMs += after - t;
      else if (idleMs > 0) Atomics.wait(idleCell, 0, 0, idleMs);
      t = n > 0 || idleMs === 0 ? after : performance.now();
    }
    const now = performance.now();
    if (start < 0 && now - t0 >= options.warmupMs) {
      startCount = options.counter();
      startElements = rec.elements;
      startBusyMs = busyMs;
      start = performance.now();
    } else if (start >= 0 && now - start >= options.seconds * 1000) {
      const count = options.counter();
      const end = performance.now();
      return {
        packets: count - startCount,
        seconds: (end - start) / 1000,
        guestElements: rec.elements - startElements,
        totalPackets: count - first,
        busySeconds: (busyMs - startBusyMs) / 1000,
      };
    }
    await new Promise<void>((resolve) => setImmediate(resolve));
  }
}
