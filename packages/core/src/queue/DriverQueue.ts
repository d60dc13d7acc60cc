import {
  VIRTQ_AVAIL_ALIGN,
  VIRTQ_AVAIL_F_NO_INTERRUPT,
  VIRTQ_DESC_ALIGN,
  VIRTQ_DESC_F_INDIRECT,
  VIRTQ_DESC_F_NEXT,
  VIRTQ_DESC_F_WRITE,
  VIRTQ_DESC_SIZE,
  VIRTQ_MAX_SIZE,
  VIRTQ_USED_ALIGN,
  VIRTQ_USED_F_NO_NOTIFY,
} from '../defs/virtio.ts';
import { VnicError } from '../errors/VnicError.ts';
import type { GuestMemory } from '../memory/GuestMemory.ts';
import type { GuestMemoryRegion } from '../memory/GuestMemoryRegion.ts';

const TWO_32 = 0x1_0000_0000;

/** The parameters of the driver side of a split virtqueue (guest-physical addresses, §2.7). */
export interface DriverQueueConfig {
  /** Queue size (number of descriptors), a power of two between 1 and 32768. */
  readonly size: number;
  /** Guest-physical address of the descriptor table (16-aligned). */
  readonly descTable: number;
  /** Guest-physical address of the available ring (2-aligned). */
  readonly availRing: number;
  /** Guest-physical address of the used ring (4-aligned). */
  readonly usedRing: number;
  /** VIRTIO_F_EVENT_IDX was negotiated. */
  readonly eventIdx: boolean;
  /**
   * VIRTIO_F_IN_ORDER was negotiated (default false): descriptors are handed out in ring order
   * (§2.7.5) and one used element may stand for a batch (§2.7.9).
   */
  readonly inOrder?: boolean;
  /**
   * Starting value of the free-running avail and used indices (default 0). Values near 0xffff
   * exercise index wrap-around; the device must start from the same (`SplitQueue.setState`).
   */
  readonly start?: number;
}

/** One buffer the driver makes available: device-readable, or device-writable when `writable`. */
export interface DriverBuffer {
  /** Guest-physical address. */
  readonly addr: number;
  /** Length in bytes (u32). */
  readonly len: number;
  /** True for a device-writable buffer (VIRTQ_DESC_F_WRITE). */
  readonly writable: boolean;
}

/** A `struct virtq_desc` written verbatim (§2.7.5), for building deliberately malformed chains. */
export interface RawDescriptor {
  /** u64 guest-physical address; a bigint can carry values above 2^53. */
  readonly addr: number | bigint;
  /** u32 length. */
  readonly len: number;
  /** u16 VIRTQ_DESC_F_* flags. */
  readonly flags: number;
  /** u16 index of the next descriptor. */
  readonly next: number;
}

/** One element the driver took from the used ring (`struct virtq_used_elem`). */
export interface UsedElement {
  /** Head descriptor index of the returned chain. */
  readonly id: number;
  /** Bytes the device wrote into the chain's writable buffers. */
  readonly len: number;
}

/** Where `DriverQueue.layout` places the three parts of a split virtqueue. */
export interface DriverQueueLayout {
  /** Guest-physical address of the descriptor table (16-aligned). */
  readonly descTable: number;
  /** Guest-physical address of the available ring (2-aligned), used_event included. */
  readonly availRing: number;
  /** Guest-physical address of the used ring (4-aligned), avail_event included. */
  readonly usedRing: number;
  /** First guest-physical address after the used ring. */
  readonly end: number;
  /** Bytes from the requested base to `end`. */
  readonly bytes: number;
}

/** Options of `DriverQueue.add`. */
export interface DriverAddOptions {
  /** Put the buffers in an indirect table written at `tableAddr` (one ring descriptor used). */
  readonly indirect?: { readonly tableAddr: number };
}

/**
 * The driver side of a split virtqueue (virtio 1.2 §2.7), in the role of rust-vmm virtio-queue's
 * `mock.rs` but a real driver: it keeps a free list of descriptors, builds chains (direct or through
 * an indirect table), publishes the avail index, decides kicks and reclaims used chains. Like
 * `SplitQueue` it borrows a `GuestMemory` on every call and never owns it.
 *
 * `add` checks only that values are encodable: it does not check that buffers lie in guest memory
 * or that readable buffers precede writable ones (that is the device's job, and tests rely on it to
 * post bad buffers with normal bookkeeping). The `*Raw` methods and `writeDescriptor` bypass the
 * bookkeeping altogether to build corrupt rings.
 *
 * Indices are published with Atomics.store and read with Atomics.load where the region allows it,
 * like `SplitQueue`. Rings are little-endian; the host is assumed little-endian.
 */
export class DriverQueue {
  /** Queue size. */
  readonly size: number;
  /** Guest-physical address of the descriptor table. */
  readonly descTable: number;
  /** Guest-physical address of the available ring. */
  readonly availRing: number;
  /** Guest-physical address of the used ring. */
  readonly usedRing: number;
  /** VIRTIO_F_EVENT_IDX in use. */
  readonly eventIdx: boolean;
  /** VIRTIO_F_IN_ORDER in use. */
  readonly inOrder: boolean;

  /**
   * Free descriptor indices: a stack (the lowest index handed out first on a fresh queue), or with
   * IN_ORDER a queue taken from the front and refilled at the back, which keeps ring order when
   * chains come back in order.
   */
  private readonly free: number[] = [];
  /** IN_ORDER: heads made available, in avail order, not yet returned. */
  private readonly order: number[] = [];
  /** IN_ORDER: device-writable bytes of each chain in flight, by head (the length a skipped one reports). */
  private readonly writable: Float64Array;
  /** IN_ORDER: used elements one used ring entry stood for, not yet returned by popUsed. */
  private readonly expanded: UsedElement[] = [];
  /** Descriptor indices of each in-flight chain, by head. */
  private readonly chains: (readonly number[] | undefined)[];
  /** How many raw avail entries (`pushAvailRaw`) name each head and are not yet used. */
  private readonly rawHeads: Uint32Array;
  /** avail->idx the next `publish` writes (`avail_idx_shadow`). */
  private availShadow: number;
  /** avail->idx last written by `publish`. */
  private published: number;
  /** avail->idx at the last `kickNeeded` decision (EVENT_IDX `old` index). */
  private kicked: number;
  /** Next used ring index to consume (`last_used_idx`). */
  private usedNext: number;
  private readonly startIdx: number;

  constructor(config: DriverQueueConfig) {
    const { size, descTable, availRing, usedRing } = config;
    if (!Number.isInteger(size) || size < 1 || size > VIRTQ_MAX_SIZE || (size & (size - 1)) !== 0) {
      throw new VnicError('invalid-argument', `queue size ${size} is not a power of two between 1 and ${VIRTQ_MAX_SIZE}`);
    }
    checkAddr('descriptor table', descTable, VIRTQ_DESC_ALIGN);
    checkAddr('available ring', availRing, VIRTQ_AVAIL_ALIGN);
    checkAddr('used ring', usedRing, VIRTQ_USED_ALIGN);
    const start = config.start ?? 0;
    if (!Number.isInteger(start) || start < 0 || start > 0xffff) {
      throw new VnicError('invalid-argument', `queue start index ${start} is not a u16`);
    }
    this.size = size;
    this.descTable = descTable;
    this.availRing = availRing;
    this.usedRing = usedRing;
    this.eventIdx = config.eventIdx;
    this.inOrder = config.inOrder ?? false;
    this.startIdx = start;
    this.availShadow = start;
    this.published = start;
    this.kicked = start;
    this.usedNext = start;
    for (let i = 0; i < size; i++) this.free.push(this.inOrder ? i : size - 1 - i);
    this.chains = new Array<readonly number[] | undefined>(size).fill(undefined);
    this.rawHeads = new Uint32Array(size);
    this.writable = new Float64Array(size);
  }

  /**
   * Places a queue of `size` descriptors at or after `base`: descriptor table 16-aligned, available
   * ring right after it, used ring on the next 4-byte boundary (virtio 1.x alignments, §2.7).
   */
  static layout(base: number, size: number): DriverQueueLayout {
    if (!Number.isSafeInteger(base) || base < 0) {
      throw new VnicError('invalid-argument', `queue base ${base} is not a safe non-negative integer`);
    }
    if (!Number.isInteger(size) || size < 1 || size > VIRTQ_MAX_SIZE || (size & (size - 1)) !== 0) {
      throw new VnicError('invalid-argument', `queue size ${size} is not a power of two between 1 and ${VIRTQ_MAX_SIZE}`);
    }
    const descTable = alignUp(base, VIRTQ_DESC_ALIGN);
    const availRing = alignUp(descTable + VIRTQ_DESC_SIZE * size, VIRTQ_AVAIL_ALIGN);
    const usedRing = alignUp(availRing + 6 + 2 * size, VIRTQ_USED_ALIGN);
    const end = usedRing + 6 + 8 * size;
    return { descTable, availRing, usedRing, end, bytes: end - base };
  }

  /**
   * Writes one `struct virtq_desc` verbatim at `gpa` (a descriptor table slot or an indirect table
   * entry). Throws when the 16 bytes are not inside guest memory or a field does not fit its type.
   */
  static writeDescriptorAt(mem: GuestMemory, gpa: number, desc: RawDescriptor): void {
    const r = mem.regionOf(gpa, VIRTQ_DESC_SIZE);
    if (r === undefined) {
      throw new VnicError('invalid-argument', `descriptor at 0x${gpa.toString(16)} is outside guest memory`);
    }
    let lo: number;
    let hi: number;
    if (typeof desc.addr === 'bigint') {
      const a = desc.addr;
      if (a < 0n || a > 0xffff_ffff_ffff_ffffn) {
        throw new VnicError('invalid-argument', `descriptor address ${a} is not a u64`);
      }
      lo = Number(a & 0xffff_ffffn);
      hi = Number(a >> 32n);
    } else {
      if (!Number.isSafeInteger(desc.addr) || desc.addr < 0) {
        throw new VnicError('invalid-argument', `descriptor address ${desc.addr} is not a safe non-negative integer`);
      }
      lo = desc.addr % TWO_32;
      hi = Math.floor(desc.addr / TWO_32);
    }
    checkUint('descriptor length', desc.len, 0xffff_ffff);
    checkUint('descriptor flags', desc.flags, 0xffff);
    checkUint('descriptor next', desc.next, 0xffff);
    const off = gpa - r.guestPhysAddr;
    const v = r.view;
    v.setUint32(off, lo, true);
    v.setUint32(off + 4, hi, true);
    v.setUint32(off + 8, desc.len, true);
    v.setUint16(off + 12, desc.flags, true);
    v.setUint16(off + 14, desc.next, true);
  }

  /** Number of free descriptors. */
  get numFree(): number {
    return this.free.length;
  }

  /** avail->idx the next `publish` writes (free-running u16). */
  get nextAvail(): number {
    return this.availShadow;
  }

  /** Index in the used ring of the next element `popUsed` takes (free-running u16). */
  get lastUsed(): number {
    return this.usedNext;
  }

  /**
   * Zeroes the three rings and writes the start index to avail->idx and used->idx, as a driver does
   * when it sets the queue up. Call once, before the device is activated.
   */
  init(mem: GuestMemory): void {
    const desc = this.ring(mem, this.descTable, VIRTQ_DESC_SIZE * this.size);
    desc.bytes.fill(0, this.descTable - desc.guestPhysAddr, this.descTable - desc.guestPhysAddr + VIRTQ_DESC_SIZE * this.size);
    const avail = this.ring(mem, this.availRing, 6 + 2 * this.size);
    avail.bytes.fill(0, this.availRing - avail.guestPhysAddr, this.availRing - avail.guestPhysAddr + 6 + 2 * this.size);
    const used = this.ring(mem, this.usedRing, 6 + 8 * this.size);
    used.bytes.fill(0, this.usedRing - used.guestPhysAddr, this.usedRing - used.guestPhysAddr + 6 + 8 * this.size);
    this.storeU16(mem, this.usedRing + 2, this.startIdx);
    this.storeU16(mem, this.availRing + 2, this.startIdx);
  }

  /**
   * Builds a chain from `buffers` (in order; NEXT-linked descriptors, or one INDIRECT descriptor
   * pointing at a table written at `opts.indirect.tableAddr`) and puts its head in the available
   * ring; `publish` makes it visible. Returns the head, or undefined when there are not enough free
   * descriptors. Throws on an empty list, a direct chain longer than the queue, a field that does
   * not fit, or an indirect table outside guest memory.
   */
  add(mem: GuestMemory, buffers: readonly DriverBuffer[], opts?: DriverAddOptions): number | undefined {
    const n = buffers.length;
    if (n === 0) throw new VnicError('invalid-argument', 'a chain needs at least one buffer');
    for (const b of buffers) {
      if (!Number.isSafeInteger(b.addr) || b.addr < 0) {
        throw new VnicError('invalid-argument', `buffer address ${b.addr} is not a safe non-negative integer`);
      }
      checkUint('buffer length', b.len, 0xffff_ffff);
    }
    const indirect = opts?.indirect;
    if (indirect !== undefined) {
      const tableLen = VIRTQ_DESC_SIZE * n;
      if (tableLen > 0xffff_ffff) throw new VnicError('invalid-argument', `indirect table of ${n} descriptors is too long`);
      if (!mem.checkRange(indirect.tableAddr, tableLen)) {
        throw new VnicError('invalid-argument', `indirect table at 0x${indirect.tableAddr.toString(16)} is outside guest memory`);
      }
      const head = this.takeFree();
      if (head === undefined) return undefined;
      for (let i = 0; i < n; i++) {
        const b = buffers[i]!;
        DriverQueue.writeDescriptorAt(mem, indirect.tableAddr + VIRTQ_DESC_SIZE * i, {
          addr: b.addr,
          len: b.len,
          flags: (b.writable ? VIRTQ_DESC_F_WRITE : 0) | (i < n - 1 ? VIRTQ_DESC_F_NEXT : 0),
          next: i < n - 1 ? i + 1 : 0,
        });
      }
      this.writeSlot(mem, head, { addr: indirect.tableAddr, len: tableLen, flags: VIRTQ_DESC_F_INDIRECT, next: 0 });
      this.chains[head] = [head];
      this.track(head, buffers);
      this.putAvail(mem, head);
      return head;
    }
    if (n > this.size) {
      throw new VnicError('invalid-argument', `a chain of ${n} descriptors does not fit a queue of ${this.size}`);
    }
    if (this.free.length < n) return undefined;
    const ids: number[] = [];
    for (let i = 0; i < n; i++) ids.push(this.takeFree()!);
    for (let i = 0; i < n; i++) {
      const b = buffers[i]!;
      this.writeSlot(mem, ids[i]!, {
        addr: b.addr,
        len: b.len,
        flags: (b.writable ? VIRTQ_DESC_F_WRITE : 0) | (i < n - 1 ? VIRTQ_DESC_F_NEXT : 0),
        next: i < n - 1 ? ids[i + 1]! : 0,
      });
    }
    const head = ids[0]!;
    this.chains[head] = ids;
    this.track(head, buffers);
    this.putAvail(mem, head);
    return head;
  }

  private takeFree(): number | undefined {
    return this.inOrder ? this.free.shift() : this.free.pop();
  }

  /** IN_ORDER: remembers `head` in avail order with the device-writable bytes of its buffers. */
  private track(head: number, buffers: readonly DriverBuffer[]): void {
    if (!this.inOrder) return;
    let w = 0;
    for (const b of buffers) if (b.writable) w += b.len;
    this.writable[head] = w;
    this.order.push(head);
  }

  /** Makes the chains added so far visible to the device: writes avail->idx (after the entries). */
  publish(mem: GuestMemory): void {
    this.storeU16(mem, this.availRing + 2, this.availShadow);
    this.published = this.availShadow;
  }

  /**
   * Whether the device wants a kick for the chains published since the last call: with EVENT_IDX
   * vring_need_event(avail_event, new, old), otherwise !(used->flags & VIRTQ_USED_F_NO_NOTIFY).
   * False when nothing was published since the last call. Call after `publish`.
   */
  kickNeeded(mem: GuestMemory): boolean {
    const newIdx = this.published;
    const oldIdx = this.kicked;
    this.kicked = newIdx;
    if (newIdx === oldIdx) return false;
    if (this.eventIdx) {
      const availEvent = this.loadU16(mem, this.usedRing + 4 + 8 * this.size);
      return ((newIdx - availEvent - 1) & 0xffff) < ((newIdx - oldIdx) & 0xffff);
    }
    return (this.loadU16(mem, this.usedRing) & VIRTQ_USED_F_NO_NOTIFY) === 0;
  }

  /** Number of used elements the device published that `popUsed` has not taken. */
  usedPending(mem: GuestMemory): number {
    return this.expanded.length + ((this.loadU16(mem, this.usedRing + 2) - this.usedNext) & 0xffff);
  }

  /**
   * Takes the next used element and frees its chain's descriptors, or undefined when the used ring
   * is empty. Throws (after consuming the element) when the device returned an id that is not in
   * flight or ran used->idx more than the queue size ahead: a device bug.
   */
  popUsed(mem: GuestMemory): UsedElement | undefined {
    const queued = this.expanded.shift();
    if (queued !== undefined) return queued;
    const pending = this.usedPending(mem);
    if (pending === 0) return undefined;
    if (pending > this.size) {
      throw new VnicError('invalid-state', `used ring index ran ${pending} entries ahead of a queue of ${this.size}`);
    }
    const gpa = this.usedRing + 4 + 8 * (this.usedNext & (this.size - 1));
    const r = this.ring(mem, gpa, 8);
    const off = gpa - r.guestPhysAddr;
    const id = r.view.getUint32(off, true);
    const len = r.view.getUint32(off + 4, true);
    if (this.inOrder) return this.popBatch(id, len, pending);
    this.usedNext = (this.usedNext + 1) & 0xffff;
    this.release(id);
    return { id, len };
  }

  /**
   * IN_ORDER: the used element (id, len) stands for every chain made available up to `id`: the
   * earlier ones come back with their whole writable length, used->idx having moved past them all
   * (§2.7.9). Throws (after skipping the element) when `id` is not in flight or the batch is longer
   * than what the device published.
   */
  private popBatch(id: number, len: number, pending: number): UsedElement | undefined {
    const at = this.order.indexOf(id);
    if (at < 0 || at + 1 > pending) {
      this.usedNext = (this.usedNext + 1) & 0xffff;
      throw new VnicError('invalid-state', `device returned used id ${id}, which is not in flight (IN_ORDER)`);
    }
    this.usedNext = (this.usedNext + at + 1) & 0xffff;
    for (const head of this.order.splice(0, at + 1)) {
      this.release(head);
      this.expanded.push({ id: head, len: head === id ? len : Math.min(this.writable[head]!, 0xffff_ffff) });
    }
    return this.expanded.shift();
  }

  /** Frees the descriptors of chain `head` (or one raw avail entry naming it); throws when neither is in flight. */
  private release(id: number): void {
    const ids = id < this.size ? this.chains[id] : undefined;
    if (ids !== undefined) {
      this.chains[id] = undefined;
      if (this.inOrder) for (const i of ids) this.free.push(i);
      else for (let i = ids.length - 1; i >= 0; i--) this.free.push(ids[i]!);
    } else if (id < this.size && this.rawHeads[id]! > 0) {
      this.rawHeads[id]!--;
    } else {
      throw new VnicError('invalid-state', `device returned used id ${id}, which is not in flight`);
    }
  }

  /** Writes used_event (EVENT_IDX): the device interrupts once used->idx passes `idx`. */
  setUsedEvent(mem: GuestMemory, idx: number): void {
    this.storeU16(mem, this.availRing + 4 + 2 * this.size, idx & 0xffff);
  }

  /**
   * Asks the device not to interrupt: sets VIRTQ_AVAIL_F_NO_INTERRUPT, or with EVENT_IDX moves
   * used_event half the index space ahead, where used->idx cannot reach it while at most `size`
   * buffers are outstanding. A hint: the device may still interrupt.
   */
  disableInterrupts(mem: GuestMemory): void {
    if (this.eventIdx) {
      this.setUsedEvent(mem, this.usedNext + 0x8000);
      return;
    }
    this.storeU16(mem, this.availRing, this.loadU16(mem, this.availRing) | VIRTQ_AVAIL_F_NO_INTERRUPT);
  }

  /**
   * Asks the device to interrupt on the next used buffer (clears VIRTQ_AVAIL_F_NO_INTERRUPT, or with
   * EVENT_IDX sets used_event to `lastUsed`). Returns true when used buffers arrived meanwhile:
   * take them before sleeping.
   */
  enableInterrupts(mem: GuestMemory): boolean {
    if (this.eventIdx) {
      this.setUsedEvent(mem, this.usedNext);
    } else {
      this.storeU16(mem, this.availRing, this.loadU16(mem, this.availRing) & ~VIRTQ_AVAIL_F_NO_INTERRUPT);
    }
    return this.usedPending(mem) !== 0;
  }

  /**
   * Writes descriptor table slot `index` verbatim (for malformed chains in tests). The slot is taken
   * off the free list so `add` never overwrites it; it is not returned to the free list later.
   */
  writeDescriptor(mem: GuestMemory, index: number, desc: RawDescriptor): void {
    if (!Number.isInteger(index) || index < 0 || index >= this.size) {
      throw new VnicError('invalid-argument', `descriptor index ${index} is outside a queue of ${this.size}`);
    }
    this.writeSlot(mem, index, desc);
    const i = this.free.indexOf(index);
    if (i >= 0) this.free.splice(i, 1);
  }

  /**
   * Puts `head` (any u16, even out of range) in the next available ring slot without building a
   * chain; `publish` makes it visible. A head below `size` may come back from `popUsed` once.
   */
  pushAvailRaw(mem: GuestMemory, head: number): void {
    checkUint('avail ring entry', head, 0xffff);
    this.putAvail(mem, head);
    if (head < this.size) {
      this.rawHeads[head]!++;
      if (this.inOrder) {
        this.writable[head] = 0;
        this.order.push(head);
      }
    }
  }

  /** Writes avail->idx verbatim, leaving the driver's own index (`nextAvail`) unchanged. */
  setAvailIdxRaw(mem: GuestMemory, idx: number): void {
    this.storeU16(mem, this.availRing + 2, idx & 0xffff);
  }

  private writeSlot(mem: GuestMemory, index: number, desc: RawDescriptor): void {
    DriverQueue.writeDescriptorAt(mem, this.descTable + VIRTQ_DESC_SIZE * index, desc);
  }

  private putAvail(mem: GuestMemory, head: number): void {
    const gpa = this.availRing + 4 + 2 * (this.availShadow & (this.size - 1));
    const r = this.ring(mem, gpa, 2);
    r.view.setUint16(gpa - r.guestPhysAddr, head, true);
    this.availShadow = (this.availShadow + 1) & 0xffff;
  }

  private ring(mem: GuestMemory, gpa: number, len: number): GuestMemoryRegion {
    const r = mem.regionOf(gpa, len);
    if (r === undefined) {
      throw new VnicError('invalid-state', `driver queue ring at 0x${gpa.toString(16)} (+${len}) is outside guest memory`);
    }
    return r;
  }

  private loadU16(mem: GuestMemory, gpa: number): number {
    const r = this.ring(mem, gpa, 2);
    const off = gpa - r.guestPhysAddr;
    return r.u16 !== undefined && off % 2 === 0 ? Atomics.load(r.u16, off >>> 1) : r.view.getUint16(off, true);
  }

  private storeU16(mem: GuestMemory, gpa: number, value: number): void {
    const r = this.ring(mem, gpa, 2);
    const off = gpa - r.guestPhysAddr;
    if (r.u16 !== undefined && off % 2 === 0) Atomics.store(r.u16, off >>> 1, value);
    else r.view.setUint16(off, value, true);
  }
}

function alignUp(n: number, align: number): number {
  return Math.ceil(n / align) * align;
}

function checkAddr(what: string, gpa: number, align: number): void {
  if (!Number.isSafeInteger(gpa) || gpa < 0 || gpa % align !== 0) {
    throw new VnicError('invalid-argument', `${what} address ${gpa} is not a ${align}-aligned safe non-negative integer`);
  }
}

function checkUint(what: string, value: number, max: number): void {
  if (!Number.isInteger(value) || value < 0 || value > max) {
    throw new VnicError('invalid-argument', `${what} ${value} does not fit 0..${max}`);
  }
}
