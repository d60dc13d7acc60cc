import {
  PackedDesc,
  RING_EVENT_FLAGS_DISABLE,
  VIRTQ_DESC_F_AVAIL,
  VIRTQ_DESC_F_NEXT,
  VIRTQ_DESC_F_USED,
  VIRTQ_DESC_F_WRITE,
  packedNeedEvent,
  type GuestMemory,
  type PackedDriverQueue,
} from '@vnic/core';
import { CliError } from '../../CliError.ts';
import { RecyclerCounters } from './RecyclerCounters.ts';

const AVAIL_USED = VIRTQ_DESC_F_AVAIL | VIRTQ_DESC_F_USED;

/**
 * RingRecycler's twin for a packed ring (virtio 1.2 §2.8): the bench's guest on one queue that a
 * VirtioNetDriver filled with one-descriptor buffers (every TX slot posted with the same frame,
 * or every RX buffer). Each used descriptor's buffer goes straight back at the next available
 * position with the address and length it had (remembered per Buffer ID when the recycler takes
 * the ring over), the flags of a pump's first descriptor written last (§2.8.6: the device sees
 * all or none), and the device is kicked only when its event suppression structure asks for it.
 * The driver event suppression structure says DISABLE: the guest polls, the device never
 * interrupts. Nothing is allocated per frame. The driver must not use that queue again.
 */
export class PackedRingRecycler extends RecyclerCounters {
  private readonly size: number;
  private readonly eventIdx: boolean;
  private readonly u16: Uint16Array;
  /** The descriptor ring as u32s (16-byte descriptors at a 4-aligned host address). */
  private readonly u32: Uint32Array;
  /** Byte offset of the descriptor ring, and u16 index of the device event suppression structure, in the region. */
  private readonly ringOff: number;
  private readonly deviceEventAt: number;
  /** Per Buffer ID: the buffer's guest address (lo, hi), length and flags (WRITE or not). */
  private readonly addrLo: Uint32Array;
  private readonly addrHi: Uint32Array;
  private readonly lens: Uint32Array;
  private readonly flags: Uint16Array;
  /** Per ring position: the Buffer ID whose address and id the descriptor there holds (a device writes only length, id and flags). */
  private readonly idAt: Uint16Array;
  private usedPos: number;
  private usedWrap: boolean;
  private availPos: number;
  private availWrap: boolean;

  /**
   * Takes over `queue`, whose every descriptor holds one posted buffer of `bufferLen` bytes (the
   * bench posts the same frame everywhere: a descriptor the device already marked used carries
   * its used length, not the buffer's). Addresses are read from the ring (a device leaves them
   * alone) per Buffer ID. Throws a CliError when the ring is not so or not in `mem`.
   */
  constructor(mem: GuestMemory, queue: PackedDriverQueue, bufferLen: number, kick: () => void) {
    super(kick);
    this.size = queue.size;
    this.eventIdx = queue.eventIdx;
    const r = mem.regionOf(queue.descRing, 16 * queue.size + 8);
    if (r === undefined || r.u16 === undefined || queue.deviceEvent !== queue.descRing + 16 * queue.size + 4) {
      throw new CliError(
        'invalid-argument',
        `bench guest: the packed ring of ${queue.size} at 0x${queue.descRing.toString(16)} is not laid out in guest memory`,
      );
    }
    if (queue.numFree !== 0) throw new CliError('invalid-state', `bench guest: ${queue.numFree} descriptors of the packed ring are not posted`);
    const view = r.view;
    this.u16 = r.u16;
    this.ringOff = queue.descRing - r.guestPhysAddr;
    const ringByte = r.bytes.byteOffset + this.ringOff;
    if (ringByte % 4 !== 0)
      throw new CliError('invalid-argument', `bench guest: the packed ring at 0x${queue.descRing.toString(16)} is not 4-byte aligned in host memory`);
    this.u32 = new Uint32Array(r.bytes.buffer, ringByte, 4 * queue.size);
    this.deviceEventAt = (this.ringOff + 16 * queue.size + 4) >>> 1;
    this.addrLo = new Uint32Array(queue.size);
    this.addrHi = new Uint32Array(queue.size);
    this.lens = new Uint32Array(queue.size);
    this.flags = new Uint16Array(queue.size);
    this.idAt = new Uint16Array(queue.size);
    ({ pos: this.usedPos, wrap: this.usedWrap } = queue.nextUsed);
    ({ pos: this.availPos, wrap: this.availWrap } = queue.nextAvail);
    for (let p = 0; p < queue.size; p++) {
      const o = this.ringOff + 16 * p;
      const f = view.getUint16(o + 14, true);
      const id = view.getUint16(o + 12, true);
      if ((f & VIRTQ_DESC_F_NEXT) !== 0 || id >= queue.size) {
        throw new CliError('invalid-state', `bench guest: packed descriptor ${p} is not a one-descriptor buffer (flags 0x${f.toString(16)}, id ${id})`);
      }
      this.addrLo[id] = view.getUint32(o, true);
      this.addrHi[id] = view.getUint32(o + 4, true);
      this.lens[id] = bufferLen;
      this.flags[id] = f & VIRTQ_DESC_F_WRITE;
      this.idAt[p] = id;
    }
    // No interrupts: the guest polls.
    Atomics.store(this.u16, (this.ringOff + 16 * queue.size + 2) >>> 1, RING_EVENT_FLAGS_DISABLE);
  }

  /** Recycles every used descriptor waiting; returns how many. */
  pump(): number {
    const { u16, u32, size, idAt, lens, flags } = this;
    const off16 = this.ringOff >>> 1;
    let pos = this.usedPos;
    let wrap = this.usedWrap;
    let apos = this.availPos;
    let awrap = this.availWrap;
    let firstAt = -1;
    let firstFlags = 0;
    let n = 0;
    let bytes = 0;
    let zero = 0;
    for (;;) {
      // PackedDesc.isUsed as one compare: AVAIL and USED both equal to the wrap counter.
      if ((Atomics.load(u16, off16 + 8 * pos + 7) & AVAIL_USED) !== PackedDesc.usedBits(wrap)) break;
      // Read after the flags' Atomics.load (ordered after the device's publication).
      const id = u16[off16 + 8 * pos + 6]!;
      const len = u32[4 * pos + 2]!;
      if (id >= size) throw new CliError('invalid-state', `bench guest: used Buffer ID ${id} in a queue of ${size} (a device bug)`);
      bytes += len;
      if (len === 0) zero++;
      // The buffer goes back at the next available position (one descriptor: it is where it came from).
      const a = 4 * apos;
      if (apos !== pos || idAt[apos] !== id) {
        // Not where its descriptor still holds it (a device that completed out of order): the whole descriptor.
        u32[a] = this.addrLo[id]!;
        u32[a + 1] = this.addrHi[id]!;
        u16[off16 + 8 * apos + 6] = id;
        idAt[apos] = id;
      }
      u32[a + 2] = lens[id]!;
      if (++pos === size) {
        pos = 0;
        wrap = !wrap;
      }
      const f = flags[id]! | PackedDesc.availBits(awrap);
      if (n === 0) {
        firstAt = off16 + 8 * apos + 7;
        firstFlags = f;
      } else {
        // A plain store: the device reaches it only after the first descriptor's flags, stored last (ordered).
        u16[off16 + 8 * apos + 7] = f;
      }
      if (++apos === size) {
        apos = 0;
        awrap = !awrap;
      }
      n++;
      if (n === size) break;
    }
    if (n === 0) return 0;
    Atomics.store(u16, firstAt, firstFlags);
    this.usedPos = pos;
    this.usedWrap = wrap;
    this.availPos = apos;
    this.availWrap = awrap;
    this.account(n, bytes, zero, this.kickNeeded(n));
    return n;
  }

  /** The Device Event Suppression structure: DISABLE never, DESC (EVENT_IDX) when the new descriptors pass its offset, else always. */
  private kickNeeded(n: number): boolean {
    const offWrap = Atomics.load(this.u16, this.deviceEventAt);
    const flags = Atomics.load(this.u16, this.deviceEventAt + 1);
    return packedNeedEvent(flags, offWrap, this.eventIdx, this.size, this.availPos, this.availWrap, n);
  }
}
