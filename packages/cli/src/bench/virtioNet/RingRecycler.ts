import type { DriverQueue, GuestMemory } from '@vnic/core';
import { CliError } from '../../CliError.ts';

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
export class RingRecycler {
  /** Used elements recycled (frames, for single-buffer chains). */
  elements = 0;
  /** Sum of the used lengths of those elements. */
  bytes = 0;
  /** Used elements with length 0 (the device rejected the chain). */
  zeroLength = 0;
  /** Kicks sent. */
  kicks = 0;

  private readonly size: number;
  private readonly mask: number;
  private readonly eventIdx: boolean;
  private readonly avail: Uint16Array;
  private readonly usedIdx16: Uint16Array;
  private readonly usedElems: Uint32Array;
  /** Index of avail->idx, used_event, used->flags and avail_event in `avail` / `usedIdx16`. */
  private readonly availIdxAt: number;
  private readonly usedEventAt: number;
  private readonly usedFlagsAt: number;
  private readonly usedIdxAt: number;
  private readonly availEventAt: number;
  private readonly kick: () => void;
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
    this.interrupts = options.interrupts === true;
    this.size = queue.size;
    this.mask = queue.size - 1;
    this.eventIdx = queue.eventIdx;
    this.kick = kick;
    const availBytes = 6 + 2 * queue.size;
    const usedBytes = 6 + 8 * queue.size;
    const ra = mem.regionOf(queue.availRing, availBytes);
    const ru = mem.regionOf(queue.usedRing, usedBytes);
    if (ra === undefined || ru === undefined || ra.u16 === undefined || ru.u16 === undefined || queue.usedRing % 4 !== 0 || queue.availRing % 2 !== 0) {
      throw new CliError(
        'invalid-argument',
        `bench guest: the rings of a queue of ${queue.size} at avail 0x${queue.availRing.toString(16)} / used 0x${queue.usedRing.toString(16)} are not in guest memory`,
      );
    }
    const availOff = (queue.availRing - ra.guestPhysAddr) >>> 1;
    const usedOff = queue.usedRing - ru.guestPhysAddr;
    const elemsByte = ru.bytes.byteOffset + usedOff + 4;
    if (elemsByte % 4 !== 0) {
      throw new CliError('invalid-argument', `bench guest: the used ring at 0x${queue.usedRing.toString(16)} is not 4-byte aligned in host memory`);
    }
    this.avail = ra.u16;
    this.availIdxAt = availOff + 1;
    this.usedEventAt = availOff + 2 + queue.size;
    this.usedIdx16 = ru.u16;
    this.usedFlagsAt = usedOff >>> 1;
    this.usedIdxAt = (usedOff >>> 1) + 1;
    this.availEventAt = (usedOff >>> 1) + 2 + 4 * queue.size;
    this.usedElems = new Uint32Array(ru.bytes.buffer, elemsByte, 2 * queue.size);
    this.lastUsed = queue.lastUsed;
    this.nextAvail = queue.nextAvail;
    this.setUsedEvent();
  }

  /** Used elements the device published that are not recycled yet. */
  pending(): number {
    return (Atomics.load(this.usedIdx16, this.usedIdxAt) - this.lastUsed) & 0xffff;
  }

  /** Recycles every used element waiting; returns how many. */
  pump(): number {
    const n = this.pending();
    if (n === 0) return 0;
    if (n > this.size) {
      throw new CliError('invalid-state', `bench guest: used->idx ran ${n} entries ahead of a queue of ${this.size} (a device bug)`);
    }
    const { avail, usedElems, mask } = this;
    const availBase = this.availIdxAt + 1;
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
    Atomics.store(avail, this.availIdxAt, next);
    this.setUsedEvent();
    this.elements += n;
    this.bytes += bytes;
    this.zeroLength += zero;
    if (this.kickNeeded(old, next)) {
      this.kicks++;
      this.kick();
    }
    return n;
  }

  private kickNeeded(oldIdx: number, newIdx: number): boolean {
    if (this.eventIdx) {
      const availEvent = Atomics.load(this.usedIdx16, this.availEventAt);
      return ((newIdx - availEvent - 1) & 0xffff) < ((newIdx - oldIdx) & 0xffff);
    }
    return (Atomics.load(this.usedIdx16, this.usedFlagsAt) & 1) === 0; // VIRTQ_USED_F_NO_NOTIFY
  }

  /** No interrupts: used_event half the index space ahead, or VIRTQ_AVAIL_F_NO_INTERRUPT (with `interrupts`: every one). */
  private setUsedEvent(): void {
    if (this.interrupts) {
      if (this.eventIdx) Atomics.store(this.avail, this.usedEventAt, this.lastUsed);
      else Atomics.store(this.avail, this.availIdxAt - 1, Atomics.load(this.avail, this.availIdxAt - 1) & ~1);
      return;
    }
    if (this.eventIdx) Atomics.store(this.avail, this.usedEventAt, (this.lastUsed + 0x8000) & 0xffff);
    else Atomics.store(this.avail, this.availIdxAt - 1, Atomics.load(this.avail, this.availIdxAt - 1) | 1);
  }
}
