import type { GuestMemory } from '../memory/GuestMemory.ts';
import type { DeviceQueue } from './DeviceQueue.ts';

/**
 * Kick suppression while a device polls a queue's available ring, as vhost's busy loop and DPDK's
 * PMDs do: `quiet` tells the driver kicks are not needed (VIRTQ_USED_F_NO_NOTIFY or, with
 * EVENT_IDX, avail_event behind the ring; packed: RING_EVENT_FLAGS_DISABLE), `poll` looks at the
 * ring itself, and `arm`, before the device sleeps, asks for kicks again and looks once more: a
 * buffer the driver made available after the last poll, while it was told not to kick, is found
 * there rather than lost (the driver publishes, then reads the suppression; the device writes
 * the suppression, then reads the ring). Only a queue quieted by `quiet` is polled and re-armed;
 * one whose data plane left kicks off for a reason of its own (a full tap, a budget run out) is
 * not touched.
 */
export class AvailPoll {
  private readonly q: DeviceQueue;
  private quieted = false;

  constructor(q: DeviceQueue) {
    this.q = q;
  }

  /** True between `quiet` and the `poll` that found buffers or the `arm` that ended the window. */
  get active(): boolean {
    return this.quieted;
  }

  /** The device starts polling: the driver is told kicks are not needed. */
  quiet(mem: GuestMemory): void {
    if (this.q.needsReset) return;
    this.q.disableNotification(mem);
    this.quieted = true;
  }

  /**
   * True when the driver made buffers available (the window ends: the data plane serves them and
   * handles notifications from there, as after a kick).
   */
  poll(mem: GuestMemory): boolean {
    if (!this.quieted || this.q.pending(mem) === 0) return false;
    this.quieted = false;
    return true;
  }

  /** The window ends without buffers: kicks are asked for again; true when buffers arrived meanwhile (serve them, do not sleep). */
  arm(mem: GuestMemory): boolean {
    if (!this.quieted) return false;
    this.quieted = false;
    if (!this.q.enableNotification(mem)) return false;
    return true;
  }
}
