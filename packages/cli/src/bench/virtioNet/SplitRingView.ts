import type { DriverQueue, GuestMemory } from '@vnic/core';
import { CliError } from '../../CliError.ts';

/**
 * The available and used rings of one split queue as a bench guest touches them (RingRecycler,
 * EchoGuest): typed-array views straight over guest memory and the element indices of each field,
 * so a guest's loop is plain loads and stores, and the notification rules it shares.
 */
export class SplitRingView {
  readonly size: number;
  readonly mask: number;
  readonly eventIdx: boolean;
  /** The available ring as u16s: flags at availIdxAt - 1, idx at availIdxAt, ring[i] at availIdxAt + 1 + i, used_event at usedEventAt. */
  readonly avail: Uint16Array;
  readonly availIdxAt: number;
  readonly usedEventAt: number;
  /** The used ring as u16s: flags at usedFlagsAt, idx at usedIdxAt, avail_event at availEventAt. */
  readonly used16: Uint16Array;
  readonly usedFlagsAt: number;
  readonly usedIdxAt: number;
  readonly availEventAt: number;
  /** The used elements as u32s: id at 2i, len at 2i + 1. */
  readonly usedElems: Uint32Array;

  /** Throws a CliError when the rings of `queue` are not inside aligned regions of `mem`. */
  constructor(mem: GuestMemory, queue: DriverQueue) {
    this.size = queue.size;
    this.mask = queue.size - 1;
    this.eventIdx = queue.eventIdx;
    const ra = mem.regionOf(queue.availRing, 6 + 2 * queue.size);
    const ru = mem.regionOf(queue.usedRing, 6 + 8 * queue.size);
    if (ra?.u16 === undefined || ru?.u16 === undefined || queue.usedRing % 4 !== 0 || queue.availRing % 2 !== 0) {
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
    this.used16 = ru.u16;
    this.usedFlagsAt = usedOff >>> 1;
    this.usedIdxAt = (usedOff >>> 1) + 1;
    this.availEventAt = (usedOff >>> 1) + 2 + 4 * queue.size;
    this.usedElems = new Uint32Array(ru.bytes.buffer, elemsByte, 2 * queue.size);
  }

  /** used->idx as the device last published it (an ordered load). */
  usedIdx(): number {
    return Atomics.load(this.used16, this.usedIdxAt);
  }

  /** Publishes avail->idx `idx` (an ordered store: the entries before it are seen first). */
  publishAvail(idx: number): void {
    Atomics.store(this.avail, this.availIdxAt, idx);
  }

  /** True when the device asked to be kicked for the entries from `oldIdx` to `newIdx` (EVENT_IDX avail_event, or VIRTQ_USED_F_NO_NOTIFY clear). */
  kickNeeded(oldIdx: number, newIdx: number): boolean {
    if (this.eventIdx) {
      const availEvent = Atomics.load(this.used16, this.availEventAt);
      return ((newIdx - availEvent - 1) & 0xffff) < ((newIdx - oldIdx) & 0xffff);
    }
    return (Atomics.load(this.used16, this.usedFlagsAt) & 1) === 0;
  }

  /** Asks for no interrupts: used_event half the index space past `lastUsed`, or VIRTQ_AVAIL_F_NO_INTERRUPT. */
  noInterrupts(lastUsed: number): void {
    if (this.eventIdx) Atomics.store(this.avail, this.usedEventAt, (lastUsed + 0x8000) & 0xffff);
    else Atomics.store(this.avail, this.availIdxAt - 1, Atomics.load(this.avail, this.availIdxAt - 1) | 1);
  }

  /** Asks for an interrupt on the next used buffer: used_event at `lastUsed`, or VIRTQ_AVAIL_F_NO_INTERRUPT clear. */
  everyInterrupt(lastUsed: number): void {
    if (this.eventIdx) Atomics.store(this.avail, this.usedEventAt, lastUsed);
    else Atomics.store(this.avail, this.availIdxAt - 1, Atomics.load(this.avail, this.availIdxAt - 1) & ~1);
  }
}
