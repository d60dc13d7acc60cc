import type { DriverQueue, GuestMemory } from '@vnic/core';
import { CliError } from '../../CliError.ts';
import { RecyclerCounters } from './RecyclerCounters.ts';
import { SplitRingView } from './SplitRingView.ts';

/**
 * The bench's guest on one queue: a load generator (TX) or sink (RX) that costs the guest almost
 * nothing per frame, so that the device, not the TypeScript driver, is what a bench measures.
 *
 * It takes over a ring that a VirtioNetDriver filled (every TX slot posted with the same frame,
 * or every RX buffer posted) and keeps it full: each used element's head goes straight back into
 * the available ring, unchanged (the descriptors still name the same buffer), avail->idx is
 * published once per pump and the device is kicked only when it asked for it (EVENT_IDX
 * avail_event, or VIRTQ_USED_F_NO_NOTIFY). It polls instead of taking interrupts (what a NAPI
 * guest under load does): used_event is kept half the index space ahead so the device never
 * interrupts. The driver must not use that queue again; close (reset) it afterwards.
 */
export class RingRecycler extends RecyclerCounters {
  private readonly ring: SplitRingView;
  /** The guest takes interrupts (the irq-per-frame row): used_event follows lastUsed / no VIRTQ_AVAIL_F_NO_INTERRUPT. */
  private readonly interrupts: boolean;
  private lastUsed: number;
  private nextAvail: number;

  /**
   * `queue` is the driver's ring (addresses and its current positions), `kick` notifies the device.
   * With `interrupts` the guest asks for a notification on every used buffer (the device decides
   * alone when to send one) instead of never. Throws a CliError when the rings are not inside one
   * aligned region of `mem`.
   */
  constructor(mem: GuestMemory, queue: DriverQueue, kick: () => void, options: { readonly interrupts?: boolean } = {}) {
    super(kick);
    this.interrupts = options.interrupts === true;
    this.ring = new SplitRingView(mem, queue);
    this.lastUsed = queue.lastUsed;
    this.nextAvail = queue.nextAvail;
    this.setUsedEvent();
  }

  /** Used elements the device published that are not recycled yet. */
  pending(): number {
    return (this.ring.usedIdx() - this.lastUsed) & 0xffff;
  }

  /** Recycles every used element waiting; returns how many. */
  pump(): number {
    const n = this.pending();
    if (n === 0) return 0;
    const ring = this.ring;
    if (n > ring.size) {
      throw new CliError('invalid-state', `bench guest: used->idx ran ${n} entries ahead of a queue of ${ring.size} (a device bug)`);
    }
    const { avail, usedElems, mask } = ring;
    const availBase = ring.availIdxAt + 1;
    let used = this.lastUsed;
    let next = this.nextAvail;
    let bytes = 0;
    let zero = 0;
    for (let i = 0; i < n; i++) {
      const e = (used & mask) << 1;
      const id = usedElems[e]!;
      const len = usedElems[e + 1]!;
      bytes += len;
      if (len === 0) zero++;
      avail[availBase + (next & mask)] = id;
      used = (used + 1) & 0xffff;
      next = (next + 1) & 0xffff;
    }
    const old = this.nextAvail;
    this.lastUsed = used;
    this.nextAvail = next;
    ring.publishAvail(next);
    this.setUsedEvent();
    this.account(n, bytes, zero, ring.kickNeeded(old, next));
    return n;
  }

  /** No interrupts: used_event half the index space ahead, or VIRTQ_AVAIL_F_NO_INTERRUPT (with `interrupts`: every one). */
  private setUsedEvent(): void {
    if (this.interrupts) this.ring.everyInterrupt(this.lastUsed);
    else this.ring.noInterrupts(this.lastUsed);
  }
}
