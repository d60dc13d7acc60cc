import {
  VIRTQ_AVAIL_F_NO_INTERRUPT,
  VIRTQ_DESC_F_INDIRECT,
  VIRTQ_DESC_F_NEXT,
  VIRTQ_DESC_F_WRITE,
  VIRTQ_MAX_SIZE,
  VIRTQ_USED_F_NO_NOTIFY,
} from '../defs/virtio.ts';
import type { GuestMemory } from '../memory/GuestMemory.ts';
import type { GuestMemoryRegion } from '../memory/GuestMemoryRegion.ts';
import type { DirtyLog } from '../dirtylog/DirtyLog.ts';
import { ChainArena } from './ChainArena.ts';
import { ChainError, type ChainErrorMessage } from './ChainError.ts';
import { DescriptorChain } from './DescriptorChain.ts';
import { InOrderUsed, type InOrderSink } from './InOrderUsed.ts';
import type { QueueState } from './QueueState.ts';
import type { SplitQueueConfig } from './SplitQueueConfig.ts';

const TWO_32 = 0x1_0000_0000;
/** High 32 bits above which a u64 guest address is not a safe JS integer. */
const MAX_ADDR_HI = 0x20_0000;

/**
 * The device side of a split virtqueue (virtio 1.2 §2.7). It never owns guest memory: every
 * operation borrows a `GuestMemory`. Nothing a guest writes makes it throw: a malformed chain is
 * returned to the guest with used length 0 and counted, ring-level corruption marks the queue
 * broken (`needsReset`) and it stops processing.
 *
 * Ring indices are read with Atomics.load and published with Atomics.store (sequentially
 * consistent), which orders them against the ring entries for a driver running concurrently.
 * Rings are little-endian; the host is assumed little-endian (x86-64, aarch64).
 */
export class SplitQueue {
  /** Queue size (number of descriptors), a power of two. */
  readonly size: number;
  /** Guest-physical address of the descriptor table. */
  readonly descTable: number;
  /** Guest-physical address of the available ring. */
  readonly availRing: number;
  /** Guest-physical address of the used ring. */
  readonly usedRing: number;
  /** VIRTIO_F_EVENT_IDX was negotiated (in use). */
  readonly eventIdx: boolean;
  /** VIRTIO_F_INDIRECT_DESC was negotiated (in use). */
  readonly indirectDesc: boolean;
  /** VIRTIO_F_IN_ORDER was negotiated: chains go to the used ring in avail order, TX runs as one used element (§2.7.9). */
  readonly inOrder: boolean;

  /** Next avail ring index to pop (free-running u16). */
  nextAvail = 0;
  /** Next used ring index to publish (free-running u16). */
  nextUsed = 0;
  /** Number of chains rejected by a validation rule. */
  malformed = 0;
  /** The last validation failure, for logs. */
  lastError: ChainErrorMessage | undefined;
  /** Why the queue stopped (ring-level corruption), or undefined while it is healthy. */
  brokenReason: ChainErrorMessage | undefined;
  /**
   * While set (live migration), every used-ring write (elements, used->idx, flags, avail_event)
   * marks its page here; null costs one branch per write.
   */
  dirtyLog: DirtyLog | null = null;

  /** used->idx at the last notification decision (EVENT_IDX `old` index). */
  private signalledUsed = 0;
  /** Where pop() parses a chain before it becomes a DescriptorChain (made on first use). */
  private scratch: ChainArena | undefined;
  /** IN_ORDER: the chains in flight in avail order and which are completed (undefined without IN_ORDER). */
  private readonly order: InOrderUsed | undefined;
  /**
   * Where `order.drain` hands the chains it releases: one element per run at `drainStart` (where
   * the run began, §2.7.9), `drainNext` past every chain taken (what used->idx becomes).
   */
  private readonly sink: InOrderSink;
  private drainMem: GuestMemory | undefined;
  private drainStart = 0;
  private drainNext = 0;

  constructor(config: SplitQueueConfig) {
    this.size = config.size;
    this.descTable = config.descTable;
    this.availRing = config.availRing;
    this.usedRing = config.usedRing;
    this.eventIdx = config.eventIdx;
    this.indirectDesc = config.indirectDesc;
    this.inOrder = config.inOrder ?? false;
    const ok = Number.isInteger(this.size) && this.size >= 1 && this.size <= VIRTQ_MAX_SIZE && (this.size & (this.size - 1)) === 0;
    if (!ok) this.brokenReason = ChainError.INVALID_SIZE;
    this.order = this.inOrder ? new InOrderUsed(ok ? this.size : 1) : undefined;
    this.sink = {
      take: () => {
        this.drainNext = (this.drainNext + 1) & 0xffff;
      },
      emit: (head, len) => {
        if (!this.storeUsedElem(this.drainMem!, this.drainStart, head, len)) return false;
        this.drainStart = this.drainNext;
        return true;
      },
    };
  }

  /** Bytes of the descriptor table. */
  get descTableBytes(): number {
    return 16 * this.size;
  }
  /** Bytes of the available ring, including used_event. */
  get availRingBytes(): number {
    return 6 + 2 * this.size;
  }
  /** Bytes of the used ring, including avail_event. */
  get usedRingBytes(): number {
    return 6 + 8 * this.size;
  }

  /** True when ring-level corruption stopped the queue: the device must report NEEDS_RESET. */
  get needsReset(): boolean {
    return this.brokenReason !== undefined;
  }

  /**
   * Checks alignment and that all three rings lie inside guest memory; on failure the queue is
   * marked broken and the reason returned. Call at activation, before any pop.
   */
  validate(mem: GuestMemory): ChainErrorMessage | undefined {
    if (this.brokenReason !== undefined) return this.brokenReason;
    if (this.descTable % 16 !== 0 || this.availRing % 2 !== 0 || this.usedRing % 4 !== 0) {
      this.brokenReason = ChainError.RING_MISALIGNED;
    } else if (
      // Each ring must lie in one window of guest memory (always true inside one region with the
      // default 1 MiB window overlap): ring accesses never copy in parts.
      mem.regionOf(this.descTable, this.descTableBytes) === undefined ||
      mem.regionOf(this.availRing, this.availRingBytes) === undefined ||
      mem.regionOf(this.usedRing, this.usedRingBytes) === undefined
    ) {
      this.brokenReason = ChainError.RING_OUT_OF_MEMORY;
    }
    return this.brokenReason;
  }

  /** The ring positions (for reset, migration, vhost SET_VRING_BASE). */
  getState(): QueueState {
    return { nextAvail: this.nextAvail, nextUsed: this.nextUsed };
  }

  /** Restores ring positions (both u16). */
  setState(state: QueueState): void {
    this.nextAvail = state.nextAvail & 0xffff;
    this.nextUsed = state.nextUsed & 0xffff;
    this.signalledUsed = this.nextUsed;
    this.order?.clear();
  }

  /** Chains taken off the avail ring so far (malformed ones too), a free-running u16: nextAvail. */
  get popSeq(): number {
    return this.nextAvail;
  }

  /**
   * Gives the last `count` chains popped back to the ring (moves nextAvail back over them): they
   * must be the chains popped last, one after the other, none returned yet.
   */
  unpop(count: number): void {
    const order = this.order;
    if (order === undefined) {
      this.nextAvail = (this.nextAvail - count) & 0xffff;
      return;
    }
    // IN_ORDER: each chain given back leaves the order too (the last popped first; a completed one ends the rewind).
    for (let k = 0; k < count && order.dropLast(); k++) this.nextAvail = (this.nextAvail - 1) & 0xffff;
  }

  /** The state `getState()` would return after `unpop(count)`, without giving anything back. */
  rewoundState(count: number): QueueState {
    return { nextAvail: (this.nextAvail - count) & 0xffff, nextUsed: this.nextUsed };
  }

  /** The driver's avail->idx, or undefined when the ring is outside memory (queue then broken). */
  availIdx(mem: GuestMemory): number | undefined {
    return this.loadU16(mem, this.availRing + 2);
  }

  /** Number of chains the driver made available that the device has not popped. */
  pending(mem: GuestMemory): number {
    if (this.brokenReason !== undefined) return 0;
    const idx = this.availIdx(mem);
    if (idx === undefined) return 0;
    return (idx - this.nextAvail) & 0xffff;
  }

  /**
   * Pops the next valid chain, or undefined when the ring is empty or broken. Malformed chains met
   * on the way are returned to the guest with used length 0 and counted; the caller sees only
   * good chains (and must still run `needsNotification` after its batch).
   */
  pop(mem: GuestMemory): DescriptorChain | undefined {
    if (this.brokenReason !== undefined) return undefined;
    const a = (this.scratch ??= new ChainArena(1, this.size));
    a.clear();
    return this.popInto(mem, a) ? DescriptorChain.fromArena(a, 0) : undefined;
  }

  /**
   * pop() without allocating: parses the next valid chain into `arena` as its chain number
   * `arena.length` (then incremented) and returns true; false when the ring is empty or broken,
   * or the arena has no room for a chain (`hasRoom`; nothing is popped then). The arena must be
   * made for this queue's size (maxChainDescs >= size). Malformed chains met on the way are
   * returned with used length 0 and counted, as with pop().
   */
  popInto(mem: GuestMemory, arena: ChainArena): boolean {
    if (!arena.roomFor(this.size)) return false;
    for (;;) {
      if (this.brokenReason !== undefined) return false;
      const idx = this.availIdx(mem);
      if (idx === undefined) return false;
      const pending = (idx - this.nextAvail) & 0xffff;
      if (pending === 0) return false;
      if (pending > this.size) {
        this.brokenReason = ChainError.INVALID_AVAIL_IDX;
        return false;
      }
      const pos = this.nextAvail;
      const head = this.readU16(mem, this.availRing + 4 + 2 * (pos % this.size));
      if (head === undefined) return false;
      this.nextAvail = (pos + 1) & 0xffff;
      if (head >= this.size) {
        // An id we cannot hand back: the avail ring itself is corrupt.
        this.brokenReason = ChainError.INVALID_HEAD;
        this.malformed++;
        return false;
      }
      const result = this.parseChain(mem, head, arena);
      this.order?.push(head, result === undefined && arena.writable[arena.length - 1] === 0);
      if (result === undefined) {
        arena.availPos[arena.length - 1] = pos;
        return true;
      }
      this.malformed++;
      this.lastError = result;
      // IN_ORDER: it goes back once the chains made available before it have.
      this.addUsed(mem, head, 0);
    }
  }

  /** Puts `head` with `len` bytes written into the used ring and publishes used->idx (IN_ORDER: once its turn comes). */
  addUsed(mem: GuestMemory, head: number, len: number): void {
    if (this.brokenReason !== undefined) return;
    if (this.order !== undefined) {
      if (this.order.complete(head, len)) this.drainInOrder(mem);
      return;
    }
    if (!this.storeUsedElem(mem, this.nextUsed, head, len)) return;
    this.nextUsed = (this.nextUsed + 1) & 0xffff;
    this.storeU16(mem, this.usedRing + 2, this.nextUsed);
  }

  /**
   * Puts `count` used elements (heads[i], lens[i]) into the used ring and publishes used->idx once.
   * With IN_ORDER the chains go in avail order, each once every chain before it has (a completion
   * ahead of its turn waits), and a run of chains with nothing device-writable becomes one element
   * with the last head where the run began, used->idx moving past the whole run (§2.7.9).
   */
  addUsedBatch(mem: GuestMemory, heads: ArrayLike<number>, lens: ArrayLike<number>, count = heads.length): void {
    if (this.brokenReason !== undefined || count === 0) return;
    if (this.order !== undefined) {
      let any = false;
      for (let i = 0; i < count; i++) if (this.order.complete(heads[i]!, lens[i]!)) any = true;
      if (any) this.drainInOrder(mem);
      return;
    }
    let next = this.nextUsed;
    for (let i = 0; i < count; i++) {
      if (!this.storeUsedElem(mem, next, heads[i]!, lens[i]!)) return;
      next = (next + 1) & 0xffff;
    }
    this.nextUsed = next;
    this.storeU16(mem, this.usedRing + 2, next);
  }

  /**
   * Decides whether the guest must be interrupted for the used buffers added since the last call
   * (EVENT_IDX: vring_need_event(used_event, new, old); otherwise VRING_AVAIL_F_NO_INTERRUPT).
   */
  needsNotification(mem: GuestMemory): boolean {
    if (this.brokenReason !== undefined) return false;
    const newIdx = this.nextUsed;
    const oldIdx = this.signalledUsed;
    this.signalledUsed = newIdx;
    if (newIdx === oldIdx) return false;
    if (this.eventIdx) {
      const usedEvent = this.readU16(mem, this.availRing + 4 + 2 * this.size);
      if (usedEvent === undefined) return true;
      return ((newIdx - usedEvent - 1) & 0xffff) < ((newIdx - oldIdx) & 0xffff);
    }
    const flags = this.loadU16(mem, this.availRing);
    return flags === undefined || (flags & VIRTQ_AVAIL_F_NO_INTERRUPT) === 0;
  }

  /**
   * Asks the driver to kick on new buffers (clears VIRTQ_USED_F_NO_NOTIFY, or with EVENT_IDX sets
   * avail_event to nextAvail). Returns true when buffers arrived meanwhile: process them before
   * sleeping.
   */
  enableNotification(mem: GuestMemory): boolean {
    if (this.brokenReason !== undefined) return false;
    if (this.eventIdx) {
      this.storeU16(mem, this.usedRing + 4 + 8 * this.size, this.nextAvail);
    } else {
      const flags = this.loadU16(mem, this.usedRing);
      if (flags === undefined) return false;
      this.storeU16(mem, this.usedRing, flags & ~VIRTQ_USED_F_NO_NOTIFY);
    }
    return this.pending(mem) !== 0;
  }

  /**
   * Tells the driver kicks are not needed while the device is polling: VIRTQ_USED_F_NO_NOTIFY, or
   * with EVENT_IDX avail_event one behind nextAvail, an index the driver's avail->idx has passed
   * already, so vring_need_event stays false until enableNotification moves it again.
   */
  disableNotification(mem: GuestMemory): void {
    if (this.brokenReason !== undefined) return;
    if (this.eventIdx) {
      this.storeU16(mem, this.usedRing + 4 + 8 * this.size, (this.nextAvail - 1) & 0xffff);
      return;
    }
    const flags = this.loadU16(mem, this.usedRing);
    if (flags === undefined) return;
    this.storeU16(mem, this.usedRing, flags | VIRTQ_USED_F_NO_NOTIFY);
  }

  /** IN_ORDER: writes the completed chains at the front of the order and publishes used->idx once. */
  private drainInOrder(mem: GuestMemory): void {
    this.drainMem = mem;
    this.drainStart = this.nextUsed;
    this.drainNext = this.nextUsed;
    const ok = this.order!.drain(this.sink);
    this.drainMem = undefined;
    if (!ok || this.drainNext === this.nextUsed) return;
    this.nextUsed = this.drainNext;
    this.storeU16(mem, this.usedRing + 2, this.nextUsed);
  }

  /** Parses chain `head` into the arena (committed only when valid); undefined when it was, else why not. */
  private parseChain(mem: GuestMemory, head: number, arena: ChainArena): ChainErrorMessage | undefined {
    const start = arena.descs;
    const addrs = arena.addr;
    const lens = arena.len;
    let n = 0;
    let firstWritable = -1;
    let readable = 0;
    let writableBytes = 0;
    let table = this.descTable;
    let tableSize = this.size;
    let index = head;
    let ttl = this.size;
    let inIndirect = false;
    let seenWritable = false;
    for (;;) {
      if (ttl-- === 0) return ChainError.LOOP;
      const r = mem.regionOf(table + 16 * index, 16);
      if (r === undefined) return inIndirect ? ChainError.INDIRECT_OUT_OF_MEMORY : ChainError.ADDRESS_OUT_OF_MEMORY;
      const off = table + 16 * index - r.guestPhysAddr;
      const v = r.view;
      const lo = v.getUint32(off, true);
      const hi = v.getUint32(off + 4, true);
      const len = v.getUint32(off + 8, true);
      const flags = v.getUint16(off + 12, true);
      const next = v.getUint16(off + 14, true);
      if (hi >= MAX_ADDR_HI) return ChainError.ADDRESS_OVERFLOW;
      const addr = hi * TWO_32 + lo;
      if ((flags & VIRTQ_DESC_F_INDIRECT) !== 0) {
        if (!this.indirectDesc) return ChainError.INDIRECT_NOT_NEGOTIATED;
        if (inIndirect) return ChainError.INDIRECT_NESTED;
        if ((flags & VIRTQ_DESC_F_NEXT) !== 0) return ChainError.INDIRECT_NEXT;
        if (len === 0 || len % 16 !== 0) return ChainError.INDIRECT_LEN;
        const count = len / 16;
        if (count > this.size) return ChainError.INDIRECT_TOO_LONG;
        if (!mem.checkRange(addr, len)) return ChainError.INDIRECT_OUT_OF_MEMORY;
        table = addr;
        tableSize = count;
        index = 0;
        ttl = count;
        inIndirect = true;
        continue;
      }
      if (!mem.checkRange(addr, len)) return ChainError.ADDRESS_OUT_OF_MEMORY;
      const writable = (flags & VIRTQ_DESC_F_WRITE) !== 0;
      if (writable) {
        if (!seenWritable) firstWritable = n;
        seenWritable = true;
        writableBytes += len;
      } else if (seenWritable) {
        return ChainError.READABLE_AFTER_WRITABLE;
      } else {
        readable += len;
      }
      // A chain has at most `size` buffers (§2.7.4.2), direct ones before an indirect table included.
      if (n === this.size) return ChainError.LOOP;
      addrs[start + n] = addr;
      lens[start + n] = len;
      n++;
      if ((flags & VIRTQ_DESC_F_NEXT) === 0) break;
      if (next >= tableSize) return ChainError.NEXT_OUT_OF_RANGE;
      index = next;
    }
    const c = arena.length;
    arena.head[c] = head;
    arena.descStart[c] = start;
    arena.descCount[c] = n;
    arena.firstWritable[c] = firstWritable < 0 ? n : firstWritable;
    arena.readable[c] = readable;
    arena.writable[c] = writableBytes;
    arena.length = c + 1;
    arena.descs = start + n;
    return undefined;
  }

  private storeUsedElem(mem: GuestMemory, usedIndex: number, head: number, len: number): boolean {
    const gpa = this.usedRing + 4 + 8 * (usedIndex % this.size);
    const r = mem.regionOf(gpa, 8);
    if (r === undefined) {
      this.brokenReason = ChainError.RING_OUT_OF_MEMORY;
      return false;
    }
    const off = gpa - r.guestPhysAddr;
    r.view.setUint32(off, head >>> 0, true);
    r.view.setUint32(off + 4, len >>> 0, true);
    if (this.dirtyLog !== null) this.dirtyLog.markRange(gpa, 8);
    return true;
  }

  private region(mem: GuestMemory, gpa: number, len: number): GuestMemoryRegion | undefined {
    const r = mem.regionOf(gpa, len);
    if (r === undefined) this.brokenReason = ChainError.RING_OUT_OF_MEMORY;
    return r;
  }

  private readU16(mem: GuestMemory, gpa: number): number | undefined {
    const r = this.region(mem, gpa, 2);
    return r === undefined ? undefined : r.view.getUint16(gpa - r.guestPhysAddr, true);
  }

  private loadU16(mem: GuestMemory, gpa: number): number | undefined {
    const r = this.region(mem, gpa, 2);
    if (r === undefined) return undefined;
    const off = gpa - r.guestPhysAddr;
    return r.u16 !== undefined && off % 2 === 0 ? Atomics.load(r.u16, off >>> 1) : r.view.getUint16(off, true);
  }

  private storeU16(mem: GuestMemory, gpa: number, value: number): void {
    const r = this.region(mem, gpa, 2);
    if (r === undefined) return;
    const off = gpa - r.guestPhysAddr;
    if (r.u16 !== undefined && off % 2 === 0) Atomics.store(r.u16, off >>> 1, value);
    else r.view.setUint16(off, value, true);
    if (this.dirtyLog !== null) this.dirtyLog.markRange(gpa, 2);
  }
}
