import * as V from '../defs/virtio.ts';
import { VnicError } from '../errors/VnicError.ts';
import type { GuestMemory } from '../memory/GuestMemory.ts';
import type { GuestMemoryRegion } from '../memory/GuestMemoryRegion.ts';
import { DriverQueue, type DriverAddOptions, type DriverBuffer, type UsedElement } from './DriverQueue.ts';
import { PackedDesc } from './PackedDesc.ts';
import { packedNeedEvent } from './packedNeedEvent.ts';
import { ringU16 } from './ringU16.ts';

const WRAP_BIT = 1 << V.VRING_PACKED_EVENT_F_WRAP_CTR;

/** The parameters of the driver side of a packed virtqueue (guest-physical addresses, §2.8). */
export interface PackedDriverQueueConfig {
  /** Queue size (number of descriptors), 1..32768. */
  readonly size: number;
  /** Guest-physical address of the Descriptor Ring (16-aligned). */
  readonly descRing: number;
  /** Guest-physical address of the Driver Event Suppression structure (4-aligned). */
  readonly driverEvent: number;
  /** Guest-physical address of the Device Event Suppression structure (4-aligned). */
  readonly deviceEvent: number;
  /** VIRTIO_F_EVENT_IDX was negotiated. */
  readonly eventIdx: boolean;
  /** VIRTIO_F_IN_ORDER was negotiated: one used descriptor may stand for a batch (default false). */
  readonly inOrder?: boolean;
  /**
   * Starting descriptor position of both sides (default 0; wrap counters start at 1). The device
   * must start from the same (`PackedQueue.setState({ nextAvail: start, nextUsed: start })`).
   */
  readonly start?: number;
}

/** Where `PackedDriverQueue.layout` places the three parts of a packed virtqueue. */
export interface PackedDriverQueueLayout {
  /** Guest-physical address of the Descriptor Ring (16-aligned). */
  readonly descRing: number;
  /** Guest-physical address of the Driver Event Suppression structure (4-aligned). */
  readonly driverEvent: number;
  /** Guest-physical address of the Device Event Suppression structure (4-aligned). */
  readonly deviceEvent: number;
  /** First guest-physical address after the three parts. */
  readonly end: number;
  /** Bytes from the requested base to `end`. */
  readonly bytes: number;
}

/** A `struct pvirtq_desc` written verbatim (§2.8.13), for building deliberately malformed rings. */
export interface RawPackedDescriptor {
  /** u64 guest-physical address; a bigint can carry values above 2^53. */
  readonly addr: number | bigint;
  /** u32 length. */
  readonly len: number;
  /** u16 Buffer ID. */
  readonly id: number;
  /** u16 flags (VIRTQ_DESC_F_*, AVAIL and USED included). */
  readonly flags: number;
}

/**
 * The driver side of a packed virtqueue (virtio 1.2 §2.8), the twin of `DriverQueue` for split
 * rings: it hands out Buffer IDs, writes lists (direct or through an indirect table) with the
 * AVAIL/USED bits of the Driver Ring Wrap Counter, makes them available on `publish` (first
 * descriptor's flags last, so the device never sees a partial batch), decides kicks from the Device
 * Event Suppression structure and takes used descriptors back, skipping forward by each list's
 * length (and, with IN_ORDER, expanding one used descriptor into the batch it stands for). Like
 * `PackedQueue` it borrows a `GuestMemory` on every call and never owns it.
 *
 * `add` checks only that values are encodable, not that buffers lie in guest memory (that is the
 * device's job). `writeDescriptorAt` bypasses the bookkeeping to build corrupt rings. A device that
 * returns an id not in flight is a bug: `popUsed` throws a VnicError.
 */
export class PackedDriverQueue {
  /** Queue size. */
  readonly size: number;
  /** Guest-physical address of the Descriptor Ring. */
  readonly descRing: number;
  /** Guest-physical address of the Driver Event Suppression structure (written by the driver). */
  readonly driverEvent: number;
  /** Guest-physical address of the Device Event Suppression structure (read by the driver). */
  readonly deviceEvent: number;
  /** VIRTIO_F_EVENT_IDX in use. */
  readonly eventIdx: boolean;
  /** VIRTIO_F_IN_ORDER in use. */
  readonly inOrder: boolean;

  /** Position of the next descriptor `add` writes. */
  private availPos: number;
  /** Driver Ring Wrap Counter. */
  private availWrap = true;
  /** Position of the next used descriptor `popUsed` reads. */
  private usedPos: number;
  /** The driver's copy of the Device Ring Wrap Counter. */
  private usedWrap = true;
  /** Ring descriptors not holding a buffer in flight. */
  private freeSlots: number;
  /** Free Buffer IDs (a stack: the lowest id is handed out first on a fresh queue). */
  private readonly freeIds: number[] = [];
  /** Ring descriptors each id in flight took (0: not in flight). */
  private readonly slots: Uint16Array;
  /** Device-writable bytes of each id in flight (IN_ORDER: the length a skipped buffer reports). */
  private readonly writable: Float64Array;
  /** Ids in flight in the order they were made available. */
  private readonly order: number[] = [];
  /** First descriptor of each list added since the last `publish`, and the flags it gets. */
  private readonly staged: { gpa: number; flags: number }[] = [];
  /** Descriptors made available since the last `kickNeeded` decision. */
  private sinceKick = 0;
  /** Used elements taken from one IN_ORDER used descriptor and not yet returned. */
  private readonly expanded: UsedElement[] = [];
  private readonly startPos: number;

  constructor(config: PackedDriverQueueConfig) {
    const { size, descRing, driverEvent, deviceEvent } = config;
    checkSize(size);
    const parts = [
      ['descriptor ring', descRing, V.VIRTQ_PACKED_DESC_ALIGN],
      ['driver event suppression', driverEvent, V.VIRTQ_PACKED_EVENT_ALIGN],
      ['device event suppression', deviceEvent, V.VIRTQ_PACKED_EVENT_ALIGN],
    ] as const;
    for (const [what, gpa, align] of parts) {
      if (!Number.isSafeInteger(gpa) || gpa < 0 || gpa % align !== 0) {
        throw new VnicError('invalid-argument', `${what} address ${gpa} must be a ${align}-aligned safe non-negative integer`);
      }
    }
    const start = config.start ?? 0;
    if (!Number.isInteger(start) || start < 0 || start >= size) {
      throw new VnicError('invalid-argument', `queue start position ${start} is not in 0..${size - 1}`);
    }
    this.size = size;
    this.descRing = descRing;
    this.driverEvent = driverEvent;
    this.deviceEvent = deviceEvent;
    this.eventIdx = config.eventIdx;
    this.inOrder = config.inOrder ?? false;
    this.startPos = start;
    this.availPos = start;
    this.usedPos = start;
    this.freeSlots = size;
    for (let i = size - 1; i >= 0; i--) this.freeIds.push(i);
    this.slots = new Uint16Array(size);
    this.writable = new Float64Array(size);
  }

  /**
   * Places a packed queue of `size` descriptors at or after `base`: descriptor ring 16-aligned, the
   * driver and then the device event suppression structure right after it (§2.8.10.1).
   */
  static layout(base: number, size: number): PackedDriverQueueLayout {
    if (!Number.isSafeInteger(base) || base < 0) {
      throw new VnicError('invalid-argument', `queue base ${base} is not a safe non-negative integer`);
    }
    checkSize(size);
    const descRing = Math.ceil(base / V.VIRTQ_PACKED_DESC_ALIGN) * V.VIRTQ_PACKED_DESC_ALIGN;
    const driverEvent = descRing + V.VIRTQ_DESC_SIZE * size;
    const deviceEvent = driverEvent + 4;
    const end = deviceEvent + 4;
    return { descRing, driverEvent, deviceEvent, end, bytes: end - base };
  }

  /**
   * Writes one `struct pvirtq_desc` verbatim at `gpa` (a ring slot or an indirect table entry).
   * Throws when the 16 bytes are not inside guest memory or a field does not fit its type.
   */
  static writeDescriptorAt(mem: GuestMemory, gpa: number, desc: RawPackedDescriptor): void {
    // Same 16 bytes as a split descriptor but for the last two u16 fields (id, flags instead of flags, next).
    DriverQueue.writeDescriptorAt(mem, gpa, { addr: desc.addr, len: desc.len, flags: desc.id, next: desc.flags });
  }

  /** Ring descriptors not holding a buffer in flight. */
  get numFree(): number {
    return this.freeSlots;
  }

  /** Position of the next descriptor `add` writes and the wrap counter it carries. */
  get nextAvail(): { readonly pos: number; readonly wrap: boolean } {
    return { pos: this.availPos, wrap: this.availWrap };
  }

  /** Position of the next used descriptor `popUsed` reads and the wrap counter it must carry. */
  get nextUsed(): { readonly pos: number; readonly wrap: boolean } {
    return { pos: this.usedPos, wrap: this.usedWrap };
  }

  /**
   * Zeroes the descriptor ring and both event suppression structures, as a driver does when it sets
   * the queue up. Call once, before activation. With a `start` position, the descriptors before it
   * are marked used in the first lap (AVAIL = USED = 1), as if the ring had run up to `start`: a
   * zeroed descriptor would otherwise read as used in the second lap (wrap counter 0).
   */
  init(mem: GuestMemory): void {
    const zero = (gpa: number, len: number): void => {
      const r = this.ring(mem, gpa, len);
      r.bytes.fill(0, gpa - r.guestPhysAddr, gpa - r.guestPhysAddr + len);
    };
    zero(this.descRing, V.VIRTQ_DESC_SIZE * this.size);
    zero(this.driverEvent, 4);
    zero(this.deviceEvent, 4);
    for (let p = 0; p < this.startPos; p++) this.storeU16(mem, this.descRing + V.VIRTQ_DESC_SIZE * p + 14, PackedDesc.usedBits(true));
    this.availPos = this.startPos;
    this.usedPos = this.startPos;
  }

  /**
   * Writes a list from `buffers` (in order; NEXT-linked ring descriptors, or one INDIRECT descriptor
   * pointing at a table written at `opts.indirect.tableAddr`); `publish` makes it available. Returns
   * the Buffer ID, or undefined when there are not enough free descriptors. Throws on an empty list,
   * a direct list longer than the queue, a field that does not fit, or a table outside guest memory.
   */
  add(mem: GuestMemory, buffers: readonly DriverBuffer[], opts?: DriverAddOptions): number | undefined {
    const n = buffers.length;
    if (n === 0) throw new VnicError('invalid-argument', 'a buffer needs at least one element');
    const indirect = opts?.indirect;
    if (indirect === undefined && n > this.size) {
      throw new VnicError('invalid-argument', `a list of ${n} descriptors does not fit a queue of ${this.size}`);
    }
    let writableBytes = 0;
    for (const b of buffers) if (b.writable) writableBytes += b.len;
    const need = indirect === undefined ? n : 1;
    if (indirect !== undefined) {
      const tableLen = V.VIRTQ_DESC_SIZE * n;
      if (tableLen > 0xffff_ffff) throw new VnicError('invalid-argument', `indirect table of ${n} descriptors is too long`);
      if (!mem.checkRange(indirect.tableAddr, tableLen)) {
        throw new VnicError('invalid-argument', `indirect table at 0x${indirect.tableAddr.toString(16)} is outside guest memory`);
      }
    }
    if (this.freeSlots < need || this.freeIds.length === 0) return undefined;
    const id = this.freeIds[this.freeIds.length - 1]!;
    if (indirect !== undefined) {
      buffers.forEach((b, i) => {
        const flags = b.writable ? V.VIRTQ_DESC_F_WRITE : 0;
        PackedDriverQueue.writeDescriptorAt(mem, indirect.tableAddr + V.VIRTQ_DESC_SIZE * i, { addr: b.addr, len: b.len, id: 0, flags });
      });
      this.writeList(mem, id, [{ addr: indirect.tableAddr, len: V.VIRTQ_DESC_SIZE * n, flags: V.VIRTQ_DESC_F_INDIRECT }]);
    } else {
      this.writeList(
        mem,
        id,
        buffers.map((b, i) => ({ addr: b.addr, len: b.len, flags: (b.writable ? V.VIRTQ_DESC_F_WRITE : 0) | (i < n - 1 ? V.VIRTQ_DESC_F_NEXT : 0) })),
      );
    }
    this.freeIds.pop();
    this.slots[id] = need;
    this.writable[id] = writableBytes;
    this.order.push(id);
    this.freeSlots -= need;
    this.sinceKick += need;
    return id;
  }

  /**
   * Writes a list of ring descriptors verbatim but for the AVAIL/USED bits (fault injection: any
   * flags, addresses above 2^53, lengths the device must refuse), under a Buffer ID of its own
   * with the usual bookkeeping, so the device's answer (used length 0, or NEEDS_RESET) comes back
   * through `popUsed` like any buffer; `publish` makes it available. Returns the Buffer ID, or
   * undefined when there are not enough free descriptors. Throws on an empty list or a field that
   * does not fit its type.
   */
  addRaw(mem: GuestMemory, descs: readonly Omit<RawPackedDescriptor, 'id'>[]): number | undefined {
    const n = descs.length;
    if (n === 0) throw new VnicError('invalid-argument', 'a list needs at least one descriptor');
    if (this.freeSlots < n || this.freeIds.length === 0) return undefined;
    const id = this.freeIds.pop()!;
    this.writeList(mem, id, descs);
    let writableBytes = 0;
    for (const d of descs) if ((d.flags & V.VIRTQ_DESC_F_WRITE) !== 0) writableBytes += d.len;
    this.slots[id] = n;
    this.writable[id] = writableBytes;
    this.order.push(id);
    this.freeSlots -= n;
    this.sinceKick += n;
    return id;
  }

  /** Makes the lists added so far available: writes their first descriptors' flags, the first list's last. */
  publish(mem: GuestMemory): void {
    for (let i = this.staged.length - 1; i >= 0; i--) this.storeU16(mem, this.staged[i]!.gpa, this.staged[i]!.flags);
    this.staged.length = 0;
  }

  /**
   * Whether the device wants a notification for the descriptors added since the last call, from the
   * Device Event Suppression structure (DISABLE: no; DESC with EVENT_IDX: vring_need_event on the
   * offset in the lap its wrap counter names; otherwise yes). False when nothing was added. Call
   * after `publish`.
   */
  kickNeeded(mem: GuestMemory): boolean {
    const n = this.sinceKick;
    this.sinceKick = 0;
    const r = this.ring(mem, this.deviceEvent, 4);
    const off = this.deviceEvent - r.guestPhysAddr;
    return packedNeedEvent(ringU16.load(r, off + 2), ringU16.load(r, off), this.eventIdx, this.size, this.availPos, this.availWrap, n);
  }

  /** Number of buffers the device returned that `popUsed` has not taken (a walk over the used descriptors). */
  usedPending(mem: GuestMemory): number {
    let count = this.expanded.length;
    let pos = this.usedPos;
    let wrap = this.usedWrap;
    let next = 0; // index into `order` of the oldest id not yet accounted for (IN_ORDER)
    const seen = new Set<number>();
    for (let steps = 0; steps < this.size; steps++) {
      const r = this.ring(mem, this.descRing + V.VIRTQ_DESC_SIZE * pos, V.VIRTQ_DESC_SIZE);
      const off = this.descRing + V.VIRTQ_DESC_SIZE * pos - r.guestPhysAddr;
      if (!PackedDesc.isUsed(ringU16.load(r, off + 14), wrap)) break;
      const id = r.view.getUint16(off + 12, true);
      if (id >= this.size || this.slots[id] === 0 || seen.has(id)) break;
      let skip = 0;
      if (this.inOrder) {
        const at = this.order.indexOf(id, next);
        if (at < 0) break;
        for (let k = next; k <= at; k++) {
          seen.add(this.order[k]!);
          skip += this.slots[this.order[k]!]!;
        }
        count += at + 1 - next;
        next = at + 1;
      } else {
        seen.add(id);
        skip = this.slots[id]!;
        count++;
      }
      pos += skip;
      if (pos >= this.size) {
        pos -= this.size;
        wrap = !wrap;
      }
    }
    return count;
  }

  /**
   * Takes the next used buffer and frees its descriptors, or undefined when none is used. With
   * IN_ORDER, one used descriptor returns every buffer up to its id in turn, the skipped ones with
   * their whole writable length. Throws (after consuming the descriptor) when the device returned
   * an id that is not in flight: a device bug.
   */
  popUsed(mem: GuestMemory): UsedElement | undefined {
    const queued = this.expanded.shift();
    if (queued !== undefined) return queued;
    const gpa = this.descRing + V.VIRTQ_DESC_SIZE * this.usedPos;
    const r = this.ring(mem, gpa, V.VIRTQ_DESC_SIZE);
    const off = gpa - r.guestPhysAddr;
    if (!PackedDesc.isUsed(ringU16.load(r, off + 14), this.usedWrap)) return undefined;
    const id = r.view.getUint16(off + 12, true);
    const len = r.view.getUint32(off + 8, true);
    const inFlight = id < this.size && this.slots[id] !== 0;
    const at = inFlight ? (this.inOrder ? this.order.indexOf(id) : this.order.lastIndexOf(id)) : -1;
    if (at < 0) {
      // Skip one descriptor so a caller that goes on does not read the same one forever.
      this.advanceUsed(1);
      throw new VnicError('invalid-state', `device returned used id ${id}, which is not in flight`);
    }
    const ids = this.inOrder ? this.order.splice(0, at + 1) : this.order.splice(at, 1);
    for (const done of ids) {
      const last = done === id;
      this.expanded.push({ id: done, len: last ? len : Math.min(this.writable[done]!, 0xffff_ffff) });
      this.advanceUsed(this.slots[done]!);
      this.freeSlots += this.slots[done]!;
      this.slots[done] = 0;
      this.freeIds.push(done);
    }
    return this.expanded.shift();
  }

  /** Writes the Driver Event Suppression structure verbatim: `flags` and, for V.RING_EVENT_FLAGS_DESC, the offset and wrap counter. */
  setUsedEvent(mem: GuestMemory, off: number, wrap: boolean, flags = V.RING_EVENT_FLAGS_DESC): void {
    this.storeU16(mem, this.driverEvent, (off & ~WRAP_BIT) | (wrap ? WRAP_BIT : 0));
    this.storeU16(mem, this.driverEvent + 2, flags);
  }

  /** Asks the device not to interrupt (V.RING_EVENT_FLAGS_DISABLE). A hint: the device may still interrupt. */
  disableInterrupts(mem: GuestMemory): void {
    this.storeU16(mem, this.driverEvent + 2, V.RING_EVENT_FLAGS_DISABLE);
  }

  /**
   * Asks the device to interrupt on the next used buffer (V.RING_EVENT_FLAGS_ENABLE, or with EVENT_IDX
   * V.RING_EVENT_FLAGS_DESC at the next used position). Returns true when a used buffer arrived
   * meanwhile: take it before sleeping.
   */
  enableInterrupts(mem: GuestMemory): boolean {
    if (this.eventIdx) this.setUsedEvent(mem, this.usedPos, this.usedWrap);
    else this.storeU16(mem, this.driverEvent + 2, V.RING_EVENT_FLAGS_ENABLE);
    return this.usedPending(mem) !== 0;
  }

  /** Writes the ring descriptors of one list from `availPos` on; the first one's flags are staged for `publish`. */
  private writeList(mem: GuestMemory, id: number, descs: readonly { addr: number | bigint; len: number; flags: number }[]): void {
    descs.forEach((d, i) => {
      const gpa = this.descRing + V.VIRTQ_DESC_SIZE * this.availPos;
      const flags = d.flags | PackedDesc.availBits(this.availWrap);
      // Until publish the first descriptor keeps its old flags (neither available nor used for this lap).
      const now = i === 0 ? this.loadU16(mem, gpa + 14) : flags;
      PackedDriverQueue.writeDescriptorAt(mem, gpa, { addr: d.addr, len: d.len, id, flags: now });
      if (i === 0) this.staged.push({ gpa: gpa + 14, flags });
      if (++this.availPos === this.size) {
        this.availPos = 0;
        this.availWrap = !this.availWrap;
      }
    });
  }

  private advanceUsed(n: number): void {
    this.usedPos += n;
    if (this.usedPos >= this.size) {
      this.usedPos -= this.size;
      this.usedWrap = !this.usedWrap;
    }
  }

  private ring(mem: GuestMemory, gpa: number, len: number): GuestMemoryRegion {
    const r = mem.regionOf(gpa, len);
    if (r === undefined) {
      throw new VnicError('invalid-state', `packed driver queue ring at 0x${gpa.toString(16)} (+${len}) is outside guest memory`);
    }
    return r;
  }

  private loadU16(mem: GuestMemory, gpa: number): number {
    const r = this.ring(mem, gpa, 2);
    return ringU16.load(r, gpa - r.guestPhysAddr);
  }

  private storeU16(mem: GuestMemory, gpa: number, value: number): void {
    const r = this.ring(mem, gpa, 2);
    ringU16.store(r, gpa - r.guestPhysAddr, value);
  }
}

function checkSize(size: number): void {
  if (!Number.isInteger(size) || size < 1 || size > V.VIRTQ_PACKED_MAX_SIZE) {
    throw new VnicError('invalid-argument', `packed queue size ${size} is not between 1 and ${V.VIRTQ_PACKED_MAX_SIZE}`);
  }
}
