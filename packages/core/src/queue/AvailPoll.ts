import type { GuestMemory } from '../memory/GuestMemory.ts';
import type { DeviceQueue } from './DeviceQueue.ts';

/**
 * Kick suppression while a device polls a queue's available ring, as vhost's busy loop and DPDK's
 * PMDs do: `quiet` tells the driver kicks are not needed (VIRTQ_USED_F_NO_NOTIFY or, with
 * EVENT_IDX, avail_event behind the ring; packed: RING_EVENT_FLAGS_DISABLE), `poll` looks at the
 * ring itself, and `arm`, before the device sleeps, asks for kicks again and looks once more: a
 * buffer the driver made available after the last poll, while it was told not to kick, is found
 * there rather than lost (the driver publishes, then reads the suppression; the device writes
 * the suppression, then reads the ring). The ring stays quiet from `quiet` to `arm`, across the
 * polls that find buffers and the data plane's turns that serve them (vhost too leaves kicks off
 * while its worker is busy): the data plane must then not turn kicks back on itself (`active`).
 * `release` hands the ring's notifications back to a data plane that keeps them off for a reason
 * of its own (a full tap, a budget run out): a queue not quiet is neither polled nor re-armed.
 */
export class AvailPoll {
  private readonly q: DeviceQueue;
  private quieted = false;

  constructor(q: DeviceQueue) {
    this.q = q;
  }

  /** True between `quiet` and the `arm` (or `release`) that ends the polling: kicks stay off meanwhile. */
  get active(): boolean {
    return this.quieted;
  }

  /** The device starts polling: the driver is told kicks are not needed (nothing to do while quiet). */
  quiet(mem: GuestMemory): void {
    if (this.quieted || this.q.needsReset) return;
    this.q.disableNotification(mem);
    this.quieted = true;
  }

  /** True when the driver made buffers available: the data plane serves them, kicks still off. */
  poll(mem: GuestMemory): boolean {
    return this.quieted && this.q.pending(mem) !== 0;
  }

  /** The data plane takes the ring's notifications back, as they are (it keeps kicks off for a reason of its own). */
  release(): void {
    this.quieted = false;
  }

  /** The device is about to sleep: kicks are asked for again; true when buffers arrived meanwhile (serve them, do not sleep). */
  arm(mem: GuestMemory): boolean {
    if (!this.quieted) return false;
    this.quieted = false;
    if (!this.q.enableNotification(mem)) return false;
    return true;
  }
}
