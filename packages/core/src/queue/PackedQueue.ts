import {
  RING_EVENT_FLAGS_DESC,
  RING_EVENT_FLAGS_DISABLE,
  RING_EVENT_FLAGS_ENABLE,
  VIRTQ_DESC_F_AVAIL,
  VIRTQ_DESC_F_INDIRECT,
  VIRTQ_DESC_F_NEXT,
  VIRTQ_DESC_F_USED,
  VIRTQ_DESC_F_WRITE,
  VIRTQ_PACKED_DESC_ALIGN,
  VIRTQ_PACKED_EVENT_ALIGN,
  VIRTQ_PACKED_MAX_SIZE,
  VRING_PACKED_EVENT_F_WRAP_CTR,
} from '../defs/virtio.ts';
import type { GuestMemory } from '../memory/GuestMemory.ts';
import type { GuestMemoryRegion } from '../memory/GuestMemoryRegion.ts';
import type { DirtyLog } from '../dirtylog/DirtyLog.ts';
import { ChainArena } from './ChainArena.ts';
import { ChainError, type ChainErrorMessage } from './ChainError.ts';
import { DescriptorChain } from './DescriptorChain.ts';
import { InOrderUsed, type InOrderSink } from './InOrderUsed.ts';
import { PackedDesc } from './PackedDesc.ts';
import type { PackedQueueConfig } from './PackedQueueConfig.ts';
import { packedNeedEvent } from './packedNeedEvent.ts';
import type { QueueState } from './QueueState.ts';
import { ringU16 } from './ringU16.ts';

const TWO_32 = 0x1_0000_0000;
/** High 32 bits above which a u64 guest address is not a safe JS integer. */
const MAX_ADDR_HI = 0x20_0000;
const WRAP_BIT = 1 << VRING_PACKED_EVENT_F_WRAP_CTR;
/** The AVAIL and USED bits of a descriptor's flags. */
const AVAIL_USED = VIRTQ_DESC_F_AVAIL | VIRTQ_DESC_F_USED;

/**
 * The device side of a packed virtqueue (virtio 1.2 §2.8), with SplitQueue's rules and shape: it
 * never owns guest memory (every call borrows a `GuestMemory`), nothing a guest writes makes it
 * throw, a malformed list goes back to the guest with used length 0 and is counted (`malformed`,
 * `lastError`), and ring-level corruption stops the queue (`needsReset`).
 *
 * The device keeps the Device Ring Wrap Counter for the used side and its own copy of the driver's
 * for the available side (both start at 1). A popped chain's `head` is its Buffer ID. The queue
 * remembers how many ring descriptors each buffer in flight took, so `addUsed(mem, id, len)` skips
 * forward exactly as the driver will; a list that runs past the descriptors the device does not
 * hold, continues into one that is not available, or carries an id out of range or already in
 * flight is ring corruption (the id to hand it back under is unknown or ambiguous).
 *
 * Descriptor flags are read with Atomics.load; a batch of used descriptors is published by one
 * Atomics.store, of its first descriptor's flags, after every id, length and the other flags
 * (plain stores the driver reaches only through that first one), which orders them for a driver
 * running concurrently. Rings are little-endian; the host
 * is assumed little-endian (x86-64, aarch64).
 */
export class PackedQueue {
  /** Queue size (number of descriptors in the ring), 1..32768; need not be a power of two. */
  readonly size: number;
  /** Guest-physical address of the Descriptor Ring (Descriptor Area, 16-aligned). */
  readonly descRing: number;
  /** Guest-physical address of the Driver Event Suppression structure (Driver Area, 4-aligned; read by the device). */
  readonly driverEvent: number;
  /** Guest-physical address of the Device Event Suppression structure (Device Area, 4-aligned; written by the device). */
  readonly deviceEvent: number;
  /** VIRTIO_F_EVENT_IDX was negotiated (RING_EVENT_FLAGS_DESC is valid). */
  readonly eventIdx: boolean;
  /** VIRTIO_F_INDIRECT_DESC was negotiated. */
  readonly indirectDesc: boolean;
  /** VIRTIO_F_IN_ORDER was negotiated: `addUsedBatch` may write one used descriptor per batch. */
  readonly inOrder: boolean;

  /** Position of the next descriptor to read, in [0, size). */
  nextAvail = 0;
  /** Driver Ring Wrap Counter the descriptor at `nextAvail` carries when available. */
  availWrap = true;
  /** Position of the next used descriptor to write, in [0, size). */
  nextUsed = 0;
  /** Device Ring Wrap Counter. */
  usedWrap = true;
  /** Number of lists rejected by a validation rule. */
  malformed = 0;
  /**
   * While set (live migration), every device write to the rings (used descriptors, their flags,
   * the Device Event Suppression structure) marks its page here; null costs one branch per write.
   */
  dirtyLog: DirtyLog | null = null;
  /** The last validation failure, for logs. */
  lastError: ChainErrorMessage | undefined;
  /** Why the queue stopped (ring-level corruption), or undefined while it is healthy. */
  brokenReason: ChainErrorMessage | undefined;

  /** Ring descriptors each buffer id in flight took (0: not in flight). */
  private readonly slots: Uint16Array;
  /** IN_ORDER: the buffers in flight in pop order and which are completed (undefined without IN_ORDER). */
  private readonly order: InOrderUsed | undefined;
  /** Where `order.drain` hands the buffers it releases: descriptors gathered, used descriptors written at the cursor. */
  private readonly sink: InOrderSink;
  /** Descriptors marked used since the last notification decision. */
  private usedSinceSignal = 0;
  /** addUsed's one-element batch. */
  private readonly oneId = new Float64Array(1);
  private readonly oneLen = new Float64Array(1);
  /** addUsedBatch's first used descriptor (byte offset in `usedRegion`) and its flags, stored last. */
  private firstOff = 0;
  private firstFlags = 0;
  /** addUsedBatch's window of the descriptor ring (looked up once per batch). */
  private usedRegion: GuestMemoryRegion | undefined;
  /** addUsedBatch's cursor: where the next used descriptor goes, its lap, the ring descriptors it stands for. */
  private curPos = 0;
  private curWrap = true;
  private curRun = 0;
  private curTotal = 0;
  private curWritten = 0;
  /** Lists taken off the ring so far (malformed ones too; free-running): `popSeq` is its low 16 bits. */
  private seq = 0;
  /** `seq % size`, kept apart (no division per pop). */
  private histAt = 0;
  /** Per list taken (indexed seq % size), for unpop: its first position | wrap << 15, its Buffer ID << 16 (one store a pop). */
  private readonly hist: Uint32Array;
  /** parseList's list in progress: first descriptor in the arena, count, first writable, bytes. */
  private pStart = 0;
  private pN = 0;
  private pFirstWritable = -1;
  private pReadable = 0;
  private pWritable = 0;
  /**
   * The descriptor ring's window in the GuestMemory last used (a GuestMemory's windows never
   * change: one lookup per memory, not per call), its byte offset there and its u16 view (undefined
   * when the window has none or the ring sits at an odd offset).
   */
  private winMem: GuestMemory | undefined;
  private win: GuestMemoryRegion | undefined;
  private winBase = 0;
  private winU16: Uint16Array | undefined;
  /** Where pop() parses a list before it becomes a DescriptorChain (made on first use). */
  private scratch: ChainArena | undefined;

  constructor(config: PackedQueueConfig) {
    this.size = config.size;
    this.descRing = config.descRing;
    this.driverEvent = config.driverEvent;
    this.deviceEvent = config.deviceEvent;
    this.eventIdx = config.eventIdx;
    this.indirectDesc = config.indirectDesc;
    this.inOrder = config.inOrder;
    const ok = Number.isInteger(this.size) && this.size >= 1 && this.size <= VIRTQ_PACKED_MAX_SIZE;
    if (!ok) this.brokenReason = ChainError.PACKED_INVALID_SIZE;
    const n = ok ? this.size : 1;
    this.slots = new Uint16Array(n);
    this.order = config.inOrder ? new InOrderUsed(n) : undefined;
    this.sink = {
      take: (id) => {
        this.curRun += this.release(id);
      },
      emit: (id, len) => this.emit(id, len),
    };
    this.hist = new Uint32Array(n);
  }

  /**
   * Lists taken off the ring so far, as a free-running u16 (malformed ones count too): a chain
   * popped by `popInto` gets the value before its own in `arena.availPos`, so chains popped one
   * after the other have consecutive values (see `unpop`).
   */
  get popSeq(): number {
    return this.seq & 0xffff;
  }

  /** Bytes of the descriptor ring. */
  get descRingBytes(): number {
    return 16 * this.size;
  }

  /** True when ring-level corruption stopped the queue: the device must report NEEDS_RESET. */
  get needsReset(): boolean {
    return this.brokenReason !== undefined;
  }

  /** Ring descriptors the device holds: popped and not yet marked used. */
  get inFlight(): number {
    return this.nextAvail - this.nextUsed + (this.availWrap === this.usedWrap ? 0 : this.size);
  }

  /**
   * Checks alignment and that the descriptor ring and both event suppression structures lie inside
   * guest memory; on failure the queue is marked broken and the reason returned. Call at activation.
   */
  validate(mem: GuestMemory): ChainErrorMessage | undefined {
    if (this.brokenReason !== undefined) return this.brokenReason;
    const addrs = [this.descRing, this.driverEvent, this.deviceEvent];
    if (!addrs.every((a) => Number.isSafeInteger(a) && a >= 0)) {
      this.brokenReason = ChainError.PACKED_RING_OUT_OF_MEMORY;
    } else if (
      this.descRing % VIRTQ_PACKED_DESC_ALIGN !== 0 ||
      this.driverEvent % VIRTQ_PACKED_EVENT_ALIGN !== 0 ||
      this.deviceEvent % VIRTQ_PACKED_EVENT_ALIGN !== 0
    ) {
      this.brokenReason = ChainError.PACKED_RING_MISALIGNED;
    } else if (
      // Each part in one window of guest memory, as for SplitQueue: ring accesses never copy in parts.
      mem.regionOf(this.descRing, this.descRingBytes) === undefined ||
      mem.regionOf(this.driverEvent, 4) === undefined ||
      mem.regionOf(this.deviceEvent, 4) === undefined
    ) {
      this.brokenReason = ChainError.PACKED_RING_OUT_OF_MEMORY;
    }
    return this.brokenReason;
  }

  /** Ring positions and wrap counters (for reset, migration, vhost SET_VRING_BASE). */
  getState(): QueueState {
    return { nextAvail: this.nextAvail, nextUsed: this.nextUsed, availWrap: this.availWrap, usedWrap: this.usedWrap };
  }

  /**
   * Restores positions and wrap counters (absent wrap counters mean 1). Buffers in flight when the
   * state was taken are not known to this queue: take the state after the data plane returned them.
   * Positions outside [0, size) or a used position ahead of the available one stop the queue.
   */
  setState(state: QueueState): void {
    if (this.brokenReason !== undefined) return;
    const { nextAvail, nextUsed } = state;
    this.slots.fill(0);
    this.order?.clear();
    this.usedSinceSignal = 0;
    const inRange = (p: number): boolean => Number.isInteger(p) && p >= 0 && p < this.size;
    if (!inRange(nextAvail) || !inRange(nextUsed)) {
      this.brokenReason = ChainError.PACKED_INVALID_STATE;
      return;
    }
    this.nextAvail = nextAvail;
    this.nextUsed = nextUsed;
    this.availWrap = state.availWrap ?? true;
    this.usedWrap = state.usedWrap ?? true;
    const held = this.inFlight;
    if (held < 0 || held > this.size) this.brokenReason = ChainError.PACKED_INVALID_STATE;
  }

  /**
   * Number of complete descriptor lists the driver made available that the device has not popped
   * (a walk over the flags; stops at the first list that would be rejected as ring corruption).
   */
  pending(mem: GuestMemory): number {
    if (this.brokenReason !== undefined) return 0;
    let pos = this.nextAvail;
    let wrap = this.availWrap;
    let room = this.size - this.inFlight;
    let lists = 0;
    while (room > 0) {
      const r = mem.regionOf(this.flagsGpa(pos), 2);
      const flags = r === undefined ? undefined : ringU16.load(r, this.flagsGpa(pos) - r.guestPhysAddr);
      if (flags === undefined || !PackedDesc.isAvail(flags, wrap)) break;
      room--;
      if ((flags & VIRTQ_DESC_F_NEXT) === 0) lists++;
      if (++pos === this.size) {
        pos = 0;
        wrap = !wrap;
      }
    }
    return lists;
  }

  /**
   * Pops the next valid chain (its `head` is the Buffer ID), or undefined when no descriptor is
   * available or the queue is broken. Malformed lists met on the way are returned to the guest with
   * used length 0 and counted; the caller sees only good chains (and must still run
   * `needsNotification` after its batch).
   */
  pop(mem: GuestMemory): DescriptorChain | undefined {
    if (this.brokenReason !== undefined) return undefined;
    const a = (this.scratch ??= new ChainArena(1, this.size));
    a.clear();
    return this.popInto(mem, a) ? DescriptorChain.fromArena(a, 0) : undefined;
  }

  /**
   * pop() without allocating (SplitQueue.popInto's twin): parses the next valid list into `arena`
   * as its chain number `arena.length` (head = Buffer ID, availPos = `popSeq` before it) and returns
   * true; false when nothing is available, the queue is broken or the arena has no room for a chain
   * (nothing is popped then). The arena must be made for this queue's size (maxChainDescs >= size).
   * Malformed lists met on the way are returned with used length 0 and counted, as with pop().
   */
  popInto(mem: GuestMemory, arena: ChainArena): boolean {
    if (!arena.roomFor(this.size)) return false;
    const size = this.size;
    for (;;) {
      if (this.brokenReason !== undefined) return false;
      const r = this.descWindow(mem);
      if (r === undefined) return false;
      const base = this.winBase;
      const v = r.view;
      // Flags through the window's u16 view (Atomics) where it has one: index of descriptor 0's flags.
      const u16 = this.winU16;
      const flagsAt = (base >>> 1) + 7;
      const first = this.nextAvail;
      const firstWrap = this.availWrap;
      const flags0 = u16 !== undefined ? Atomics.load(u16, flagsAt + 8 * first) : v.getUint16(base + 16 * first + 14, true);
      if ((flags0 & AVAIL_USED) !== PackedDesc.availBits(firstWrap)) return false;
      const room = size - this.inFlight;
      if (room === 0) return this.fail(ChainError.CHAIN_TOO_LONG);
      let pos = first;
      let wrap = firstWrap;
      let flags = flags0;
      let count = 1;
      while ((flags & VIRTQ_DESC_F_NEXT) !== 0) {
        if (count === room) return this.fail(ChainError.CHAIN_TOO_LONG);
        if (++pos === size) {
          pos = 0;
          wrap = !wrap;
        }
        const f = u16 !== undefined ? Atomics.load(u16, flagsAt + 8 * pos) : v.getUint16(base + 16 * pos + 14, true);
        if ((f & AVAIL_USED) !== PackedDesc.availBits(wrap)) return this.fail(ChainError.CHAIN_NOT_AVAILABLE);
        flags = f;
        count++;
      }
      // Read after the flags' Atomics.load, which orders it after the driver's publication.
      const id = v.getUint16(base + 16 * pos + 12, true);
      if (id >= size || this.slots[id] !== 0) return this.fail(ChainError.INVALID_BUFFER_ID);
      if (++pos === size) {
        pos = 0;
        wrap = !wrap;
      }
      const h = this.histAt;
      if (++this.histAt === size) this.histAt = 0;
      this.hist[h] = (first | (firstWrap ? 0x8000 : 0) | (id << 16)) >>> 0;
      const seq = this.seq & 0xffff;
      this.seq++;
      this.nextAvail = pos;
      this.availWrap = wrap;
      this.slots[id] = count;
      // One buffer descriptor (the common list) is checked here, with take()'s rules; the rest in parseList.
      const result =
        (flags0 & (VIRTQ_DESC_F_NEXT | VIRTQ_DESC_F_INDIRECT)) === 0
          ? this.parseOne(mem, v, base + 16 * first, (flags0 & VIRTQ_DESC_F_WRITE) !== 0, id, arena)
          : this.parseList(mem, v, base, first, count, id, arena);
      if (this.brokenReason !== undefined) return false;
      const c = arena.length - 1;
      this.order?.push(id, result === undefined && arena.writable[c] === 0);
      if (result === undefined) {
        arena.availPos[c] = seq;
        return true;
      }
      this.malformed++;
      this.lastError = result;
      // IN_ORDER: it goes back (addUsed) once the buffers made available before it have.
      this.addUsed(mem, id, 0);
    }
  }

  /**
   * Gives the last `count` lists popped back to the ring, as if never popped: the driver's
   * descriptors are read again by the next pop. They must be the lists popped last, one after the
   * other (their `popSeq`s popSeq-1, popSeq-2, ...), all still in flight; the first one that is not
   * ends the rewind. (A data plane holding popped chains it did not use gives them back this way.)
   */
  unpop(count: number): void {
    for (let k = 0; k < count; k++) {
      if (this.seq === 0) return;
      const h = (this.seq - 1) % this.size;
      const id = this.hist[h]! >>> 16;
      if (this.slots[id] === 0 || this.inFlight === 0) return;
      if (this.order !== undefined && !this.order.dropLast(id)) return;
      this.slots[id] = 0;
      this.seq--;
      this.histAt = h;
      const start = this.hist[h]! & 0xffff;
      this.nextAvail = start & 0x7fff;
      this.availWrap = (start & 0x8000) !== 0;
    }
  }

  /** The state `getState()` would return after `unpop(count)`, without giving anything back. */
  rewoundState(count: number): QueueState {
    if (count <= 0 || count > this.seq) return this.getState();
    const start = this.hist[(this.seq - count) % this.size]! & 0xffff;
    return { nextAvail: start & 0x7fff, nextUsed: this.nextUsed, availWrap: (start & 0x8000) !== 0, usedWrap: this.usedWrap };
  }

  /** Marks buffer `id` used with `len` bytes written (one used descriptor at `nextUsed`). */
  addUsed(mem: GuestMemory, id: number, len: number): void {
    this.oneId[0] = id;
    this.oneLen[0] = len;
    this.addUsedBatch(mem, this.oneId, this.oneLen, 1);
  }

  /**
   * Marks `count` buffers used (ids[i] with lens[i] bytes) as one request: the first used
   * descriptor's flags are written last, so the driver sees all or none (§2.8.9). With IN_ORDER the
   * buffers go to the ring in the order they were popped, each once every buffer before it has
   * (InOrderUsed: a completion ahead of its turn waits), and a run of them with nothing
   * device-writable is written as one used descriptor carrying the last id (§2.8.8). Ids not in
   * flight are ignored.
   */
  addUsedBatch(mem: GuestMemory, ids: ArrayLike<number>, lens: ArrayLike<number>, count = ids.length): void {
    if (this.brokenReason !== undefined || count === 0) return;
    const r = this.descWindow(mem);
    if (r === undefined) return;
    this.usedRegion = r;
    this.curPos = this.nextUsed;
    this.curWrap = this.usedWrap;
    this.curRun = 0;
    this.curTotal = 0;
    this.curWritten = 0;
    const order = this.order;
    if (order === undefined) {
      // emit() inlined, the cursor in locals: the path of every batch without IN_ORDER.
      const { size, slots } = this;
      const v = r.view;
      const log = this.dirtyLog;
      const base = this.winBase;
      // Ids and flags through the window's u16 view where it has one (plain stores: the first flags publish them).
      const u16 = this.winU16;
      let pos = this.nextUsed;
      let wrap = this.usedWrap;
      let bits = PackedDesc.usedBits(wrap);
      let total = 0;
      let written = 0;
      for (let i = 0; i < count; i++) {
        const id = ids[i]!;
        if (!(id >= 0 && id < size && Number.isInteger(id))) continue;
        const n = slots[id]!;
        if (n === 0) continue;
        slots[id] = 0;
        const len = lens[i]! >>> 0;
        const off = base + 16 * pos;
        v.setUint32(off + 8, len, true);
        const flags = bits | (len !== 0 ? VIRTQ_DESC_F_WRITE : 0);
        if (u16 !== undefined) {
          const at = (off >>> 1) + 6;
          u16[at] = id;
          if (written === 0) {
            this.firstOff = off;
            this.firstFlags = flags;
          } else {
            u16[at + 1] = flags;
          }
        } else {
          v.setUint16(off + 12, id, true);
          if (written === 0) {
            this.firstOff = off;
            this.firstFlags = flags;
          } else {
            v.setUint16(off + 14, flags, true);
          }
        }
        if (written !== 0 && log !== null) log.markRange(r.guestPhysAddr + off + 8, 8);
        written++;
        total += n;
        pos += n;
        if (pos >= size) {
          pos -= size;
          wrap = !wrap;
          bits = PackedDesc.usedBits(wrap);
        }
      }
      this.curWritten = written;
      this.curTotal = total;
    } else {
      for (let i = 0; i < count; i++) {
        const id = ids[i]!;
        if (Number.isInteger(id) && id >= 0 && id < this.size && this.slots[id] !== 0) order.complete(id, lens[i]!);
      }
      const ok = order.drain(this.sink);
      if (!ok) return;
    }
    // The flags of every used descriptor but the first were plain stores (emit): the driver reads
    // the ring in order, so it reaches them only after the first one's flags, published last with
    // Atomics.store (which orders every store before it). One ordered store per batch, not per descriptor.
    if (this.curWritten > 0) {
      ringU16.store(r, this.firstOff + 14, this.firstFlags);
      if (this.dirtyLog !== null) this.dirtyLog.markRange(r.guestPhysAddr + this.firstOff + 8, 8);
    }
    this.advanceUsed(this.curTotal);
  }

  /**
   * Decides whether the guest must be interrupted for the descriptors marked used since the last
   * call, from the Driver Event Suppression structure: RING_EVENT_FLAGS_DISABLE never,
   * RING_EVENT_FLAGS_DESC (with EVENT_IDX) when the used position passed the event offset in the
   * lap its wrap counter names, anything else (ENABLE, DESC without EVENT_IDX, the reserved value)
   * always.
   */
  needsNotification(mem: GuestMemory): boolean {
    if (this.brokenReason !== undefined) return false;
    const n = this.usedSinceSignal;
    this.usedSinceSignal = 0;
    if (n === 0) return false;
    const r = this.ring(mem, this.driverEvent, 4);
    if (r === undefined) return false;
    const off = this.driverEvent - r.guestPhysAddr;
    return packedNeedEvent(ringU16.load(r, off + 2), ringU16.load(r, off), this.eventIdx, this.size, this.nextUsed, this.usedWrap, n);
  }

  /**
   * Asks the driver to notify on new buffers: RING_EVENT_FLAGS_ENABLE, or with EVENT_IDX
   * RING_EVENT_FLAGS_DESC at `nextAvail` and the wrap counter it will carry. Returns true when a
   * descriptor is available already: process it before sleeping.
   */
  enableNotification(mem: GuestMemory): boolean {
    if (this.brokenReason !== undefined) return false;
    if (this.eventIdx) {
      this.store(mem, this.deviceEvent, this.nextAvail | (this.availWrap ? WRAP_BIT : 0));
      this.store(mem, this.deviceEvent + 2, RING_EVENT_FLAGS_DESC);
    } else {
      this.store(mem, this.deviceEvent + 2, RING_EVENT_FLAGS_ENABLE);
    }
    const flags = this.load(mem, this.flagsGpa(this.nextAvail));
    return flags !== undefined && PackedDesc.isAvail(flags, this.availWrap);
  }

  /** Tells the driver notifications are not needed while the device is polling (RING_EVENT_FLAGS_DISABLE). */
  disableNotification(mem: GuestMemory): void {
    if (this.brokenReason !== undefined) return;
    // Only the device writes this structure: a data plane that polls step after step stores once.
    if (this.load(mem, this.deviceEvent + 2) !== RING_EVENT_FLAGS_DISABLE) this.store(mem, this.deviceEvent + 2, RING_EVENT_FLAGS_DISABLE);
  }

  /**
   * Writes the used descriptor of `id` at addUsedBatch's cursor, standing for the descriptors
   * gathered so far (curRun): its flags at once (a plain store) but for the batch's first, which
   * addUsedBatch stores last.
   */
  private emit(id: number, len: number): boolean {
    const r = this.usedRegion!;
    const off = this.descRing - r.guestPhysAddr + 16 * this.curPos;
    r.view.setUint32(off + 8, len >>> 0, true);
    r.view.setUint16(off + 12, id, true);
    const flags = usedFlags(this.curWrap, len);
    if (this.curWritten === 0) {
      this.firstOff = off;
      this.firstFlags = flags;
    } else {
      ringU16.set(r, off + 14, flags);
      if (this.dirtyLog !== null) this.dirtyLog.markRange(r.guestPhysAddr + off + 8, 8);
    }
    this.curWritten++;
    this.curTotal += this.curRun;
    this.curPos += this.curRun;
    if (this.curPos >= this.size) {
      this.curPos -= this.size;
      this.curWrap = !this.curWrap;
    }
    this.curRun = 0;
    return true;
  }

  /** Takes `id` out of flight; returns the ring descriptors it held, 0 when it was not in flight. */
  private release(id: number): number {
    if (!Number.isInteger(id) || id < 0 || id >= this.size) return 0;
    const n = this.slots[id]!;
    this.slots[id] = 0;
    return n;
  }

  private advanceUsed(n: number): void {
    let pos = this.nextUsed + n;
    if (pos >= this.size) {
      pos -= this.size;
      this.usedWrap = !this.usedWrap;
    }
    this.nextUsed = pos;
    this.usedSinceSignal += n;
  }

  /**
   * parseList for a list of one buffer descriptor (at `off` of `v`, Buffer ID `id`): the same
   * checks as take() (address overflow, the buffer inside guest memory), committed to `arena` as
   * one chain when they pass; undefined then, else the rule it breaks.
   */
  private parseOne(mem: GuestMemory, v: DataView, off: number, writable: boolean, id: number, arena: ChainArena): ChainErrorMessage | undefined {
    const hi = v.getUint32(off + 4, true);
    if (hi >= MAX_ADDR_HI) return ChainError.ADDRESS_OVERFLOW;
    const addr = hi * TWO_32 + v.getUint32(off, true);
    const len = v.getUint32(off + 8, true);
    if (!mem.checkRange(addr, len)) return ChainError.ADDRESS_OUT_OF_MEMORY;
    const c = arena.length;
    const d = arena.descs;
    arena.addr[d] = addr;
    arena.len[d] = len;
    arena.head[c] = id;
    arena.descStart[c] = d;
    arena.descCount[c] = 1;
    arena.firstWritable[c] = writable ? 0 : 1;
    arena.readable[c] = writable ? 0 : len;
    arena.writable[c] = writable ? len : 0;
    arena.length = c + 1;
    arena.descs = d + 1;
    return undefined;
  }

  /**
   * Validates the `count` ring descriptors from `first` (one list, Buffer ID `id`; the ring at byte
   * `base` of `v`) into `arena` (committed only when valid): undefined when it was, else the rule it breaks.
   */
  private parseList(mem: GuestMemory, v: DataView, base: number, first: number, count: number, id: number, arena: ChainArena): ChainErrorMessage | undefined {
    this.pStart = arena.descs;
    this.pN = 0;
    this.pFirstWritable = -1;
    this.pReadable = 0;
    this.pWritable = 0;
    let pos = first;
    for (let i = 0; i < count; i++) {
      const off = base + 16 * pos;
      const flags = v.getUint16(off + 14, true);
      if ((flags & VIRTQ_DESC_F_INDIRECT) !== 0) {
        if (count > 1) return ChainError.INDIRECT_NEXT;
        if (!this.indirectDesc) return ChainError.INDIRECT_NOT_NEGOTIATED;
        const err = this.parseIndirect(mem, v, off, arena);
        if (err !== undefined) return err;
        break;
      }
      const err = this.take(mem, v, off, (flags & VIRTQ_DESC_F_WRITE) !== 0, arena);
      if (err !== undefined) return err;
      if (++pos === this.size) pos = 0;
    }
    const c = arena.length;
    arena.head[c] = id;
    arena.descStart[c] = this.pStart;
    arena.descCount[c] = this.pN;
    arena.firstWritable[c] = this.pFirstWritable < 0 ? this.pN : this.pFirstWritable;
    arena.readable[c] = this.pReadable;
    arena.writable[c] = this.pWritable;
    arena.length = c + 1;
    arena.descs = this.pStart + this.pN;
    return undefined;
  }

  /** Checks one buffer descriptor (at `off` of `v`) and appends it to the list parseList is building. */
  private take(mem: GuestMemory, v: DataView, off: number, writable: boolean, arena: ChainArena): ChainErrorMessage | undefined {
    const hi = v.getUint32(off + 4, true);
    if (hi >= MAX_ADDR_HI) return ChainError.ADDRESS_OVERFLOW;
    const addr = hi * TWO_32 + v.getUint32(off, true);
    const len = v.getUint32(off + 8, true);
    if (!mem.checkRange(addr, len)) return ChainError.ADDRESS_OUT_OF_MEMORY;
    if (writable) {
      if (this.pFirstWritable < 0) this.pFirstWritable = this.pN;
      this.pWritable += len;
    } else if (this.pFirstWritable >= 0) {
      return ChainError.READABLE_AFTER_WRITABLE;
    } else {
      this.pReadable += len;
    }
    // A list has at most `size` buffers (its ring descriptors, or the entries of one table).
    if (this.pN === this.size) return ChainError.LOOP;
    arena.addr[this.pStart + this.pN] = addr;
    arena.len[this.pStart + this.pN] = len;
    this.pN++;
    return undefined;
  }

  private parseIndirect(mem: GuestMemory, v: DataView, off: number, arena: ChainArena): ChainErrorMessage | undefined {
    const hi = v.getUint32(off + 4, true);
    if (hi >= MAX_ADDR_HI) return ChainError.ADDRESS_OVERFLOW;
    const table = hi * TWO_32 + v.getUint32(off, true);
    const len = v.getUint32(off + 8, true);
    if (len === 0 || len % 16 !== 0) return ChainError.INDIRECT_LEN;
    const entries = len / 16;
    if (entries > this.size) return ChainError.INDIRECT_TOO_LONG;
    if (!mem.checkRange(table, len)) return ChainError.INDIRECT_OUT_OF_MEMORY;
    for (let j = 0; j < entries; j++) {
      const r = mem.regionOf(table + 16 * j, 16);
      if (r === undefined) return ChainError.INDIRECT_OUT_OF_MEMORY;
      const o = table + 16 * j - r.guestPhysAddr;
      // In an indirect table VIRTQ_DESC_F_WRITE is the only flag that counts; ids are ignored.
      const err = this.take(mem, r.view, o, (r.view.getUint16(o + 14, true) & VIRTQ_DESC_F_WRITE) !== 0, arena);
      if (err !== undefined) return err;
    }
    return undefined;
  }

  private fail(reason: ChainErrorMessage): false {
    this.brokenReason = reason;
    return false;
  }

  private flagsGpa(pos: number): number {
    return this.descRing + 16 * pos + 14;
  }

  /** The window holding the whole descriptor ring (validate), or undefined with the queue stopped. */
  private descWindow(mem: GuestMemory): GuestMemoryRegion | undefined {
    if (mem === this.winMem) return this.win;
    const r = this.ring(mem, this.descRing, 16 * this.size);
    if (r === undefined) return undefined;
    const base = this.descRing - r.guestPhysAddr;
    this.winMem = mem;
    this.win = r;
    this.winBase = base;
    this.winU16 = r.u16 !== undefined && (base & 1) === 0 ? r.u16 : undefined;
    return r;
  }

  /** The window holding [gpa, gpa + len), or undefined with the queue stopped (ring outside memory). */
  private ring(mem: GuestMemory, gpa: number, len: number): GuestMemoryRegion | undefined {
    const r = mem.regionOf(gpa, len);
    if (r === undefined) this.brokenReason = ChainError.PACKED_RING_OUT_OF_MEMORY;
    return r;
  }

  private load(mem: GuestMemory, gpa: number): number | undefined {
    const r = this.ring(mem, gpa, 2);
    return r === undefined ? undefined : ringU16.load(r, gpa - r.guestPhysAddr);
  }

  private store(mem: GuestMemory, gpa: number, value: number): void {
    const r = this.ring(mem, gpa, 2);
    if (r === undefined) return;
    ringU16.store(r, gpa - r.guestPhysAddr, value);
    if (this.dirtyLog !== null) this.dirtyLog.markRange(gpa, 2);
  }
}

/** Flags of a used descriptor: AVAIL and USED both equal to the wrap counter, WRITE when data was written. */
function usedFlags(wrap: boolean, len: number): number {
  return PackedDesc.usedBits(wrap) | (len >>> 0 !== 0 ? VIRTQ_DESC_F_WRITE : 0);
}
