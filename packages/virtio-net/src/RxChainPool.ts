import { ChainArena, markArenaWritten, type DeviceQueue, type DirtyLog, type GuestMemory, type QueueState } from '@vnic/core';
import type { IoVecArray } from '@vnic/sys';
import { trailingPops } from './trailingPops.ts';

const HDR = 12;

/** Pieces of a copy up to this many bytes go byte by byte (no views made); longer ones through TypedArray.set. */
const SMALL_COPY = 256;

/**
 * The receive chains an IO thread popped but has not filled yet, in pop order. A frame is read
 * (readv) across the first chains of the pool straight into guest memory; the chains it did not
 * need stay here for the next frame, so a popped chain is never lost and SplitQueue needs no
 * "unpop". When the thread stops, `rewind` hands the unused chains back to the ring: it moves
 * nextAvail back over the trailing chains that were popped consecutively (the usual case), and
 * returns any other held chain with used length 0, because moving back over a malformed chain
 * that pop() already returned would make the guest see its id twice.
 *
 * Nothing is allocated per frame: chains are parsed into a ChainArena (SplitQueue.popInto); the
 * held ones are arena chains start..length-1, and the consumed prefix is dropped (the rest moved
 * to the front) when the arena runs out of room.
 */
export class RxChainPool {
  private arena: ChainArena | undefined;
  private start = 0;
  private total = 0;
  /** hostAddressInto's slot (no heap number per buffer). */
  private readonly addr = new Float64Array(1);
  private readonly maxBuffers: number;
  private readonly minCapacity: number;
  /** Marks the chains to keep when the arena is compacted. */
  private mask = new Uint8Array(0);

  /**
   * @param maxBuffers most writable buffers one chain may have (one iovec each): no more than the
   *   readv of one frame can take, or the chain could never be filled and would be held forever.
   * @param minCapacity fewest writable bytes a chain must have (at least the 12-byte header):
   *   without MRG_RXBUF a chain smaller than the smallest frame could never take one.
   */
  constructor(maxBuffers: number, minCapacity = HDR) {
    this.maxBuffers = maxBuffers;
    this.minCapacity = Math.max(HDR, minCapacity);
  }

  /** Number of chains held. */
  get length(): number {
    return (this.arena?.length ?? 0) - this.start;
  }

  /** Writable bytes of every chain held. */
  get capacity(): number {
    return this.total;
  }

  /**
   * Pops chains until the pool holds `target` bytes (or `maxChains` chains) or the ring is
   * empty. A chain that cannot take a frame (fewer than `minCapacity` writable bytes, more than
   * `maxBuffers` buffers, memory without a host mapping) is returned with used length 0 and
   * reported through `onUnusable` (count it as malformed), never held: a held chain that no frame
   * fits would stall RX for good. Returns the number of chains added.
   */
  fill(mem: GuestMemory, q: DeviceQueue, target: number, maxChains: number, onUnusable: () => void): number {
    const arena = this.arenaFor(q);
    let added = 0;
    while (this.total < target && arena.length - this.start < maxChains) {
      if (!arena.hasRoom) {
        if (this.start === 0) break; // full of held chains
        this.compact(arena);
        continue;
      }
      if (!q.popInto(mem, arena)) break;
      const c = arena.length - 1;
      if (!this.usable(mem, arena, c)) {
        arena.truncate(c);
        q.addUsed(mem, arena.head[c]!, 0);
        onUnusable();
        continue;
      }
      this.total += arena.writable[c]!;
      added++;
    }
    return added;
  }

  /**
   * Appends the buffers of the held chains, in order, to `iov` until `limit` bytes are covered, the
   * chains run out or `iov` has `maxIov` entries (a chain is added whole or not at all). Returns the
   * bytes covered.
   */
  fillIov(iov: IoVecArray, mem: GuestMemory, limit: number, maxIov: number): number {
    const a = this.arena;
    if (a === undefined) return 0;
    let covered = 0;
    for (let i = 0; this.start + i < a.length && covered < limit; i++) {
      const writable = this.appendChain(i, iov, mem, maxIov);
      if (writable < 0) break;
      covered += writable;
    }
    return covered;
  }

  /** Head of held chain `i` (0: the first), or undefined. */
  headAt(i: number): number | undefined {
    return i >= 0 && i < this.length ? this.arena!.head[this.start + i] : undefined;
  }

  /**
   * Appends the writable buffers of held chain `i` (0: the first) to `iov` as host addresses and
   * returns its writable bytes; -1 (nothing appended) when `iov` would get more than `maxIov` entries.
   */
  appendChain(i: number, iov: IoVecArray, mem: GuestMemory, maxIov: number): number {
    const a = this.arena!;
    const c = this.start + i;
    const from = a.descStart[c]! + a.firstWritable[c]!;
    const to = a.descStart[c]! + a.descCount[c]!;
    let buffers = 0;
    for (let k = from; k < to; k++) if (a.len[k]! > 0) buffers++;
    if (iov.length + buffers > maxIov) return -1;
    for (let k = from; k < to; k++) {
      const len = a.len[k]!;
      if (len > 0 && mem.hostAddressInto(a.addr[k]!, len, this.addr, 0)) iov.pushAt(this.addr, 0, len); // checked when the chain was held
    }
    return a.writable[c]!;
  }

  /** Head of the first held chain (where the frame's virtio_net_hdr lands), or undefined. */
  firstHead(): number | undefined {
    return this.length > 0 ? this.arena!.head[this.start] : undefined;
  }

  /**
   * The first writable buffer of the first held chain as [guest address, length], written into
   * `out`; false when the pool is empty.
   */
  firstBuffer(out: Float64Array): boolean {
    if (this.length === 0) return false;
    const a = this.arena!;
    const k = a.descStart[this.start]! + a.firstWritable[this.start]!;
    out[0] = a.addr[k]!;
    out[1] = a.len[k]!;
    return true;
  }

  /**
   * Removes the chains a frame of `bytes` bytes (header included) filled, from the front, and
   * appends each one's head and used length to `heads`/`lens` at `at`. Returns how many were used.
   */
  consume(bytes: number, heads: { [i: number]: number }, lens: { [i: number]: number }, at: number): number {
    const a = this.arena;
    const count = this.length;
    if (a === undefined || count === 0) return 0;
    const first = this.start;
    let left = bytes;
    let n = 0;
    while (left > 0 && n < count) {
      const cap = a.writable[first + n]!;
      const used = Math.min(left, cap);
      heads[at + n] = a.head[first + n]!;
      lens[at + n] = used;
      left -= used;
      this.total -= cap;
      n++;
    }
    if (n === 0) {
      // A zero-length frame still occupies one buffer (never happens with a real tap).
      heads[at] = a.head[first]!;
      lens[at] = 0;
      this.total -= a.writable[first]!;
      n = 1;
    }
    this.start = first + n;
    if (this.start === a.length) {
      a.clear();
      this.start = 0;
    }
    return n;
  }

  /** Number of chains, from the front, that a frame of `bytes` bytes (header included) fills. */
  countFor(bytes: number): number {
    const count = this.length;
    let left = bytes;
    let n = 0;
    while (left > 0 && n < count) left -= this.arena!.writable[this.start + n++]!;
    return Math.max(n, count > 0 ? 1 : 0);
  }

  /**
   * Copies `len` bytes (default: the rest of `out` from `at`) of what was read into the held
   * chains, starting `offset` bytes into the first one, into `out` from `at` (across buffers and
   * chains). Returns the bytes copied.
   */
  copyOut(mem: GuestMemory, offset: number, out: Uint8Array, at = 0, len = out.length - at): number {
    return this.copy(mem, offset, out, at, len, false);
  }

  /**
   * Copies the `len` bytes of `src` from `at` (default: all of `src`) into the held chains'
   * writable buffers starting `offset` bytes into the first chain (across buffers and chains): the
   * tail of a frame that was read into a bounce buffer because it went past the buffers handed to
   * readv, or a frame that waited in a slot. Returns the bytes copied (fewer only when the chains
   * run out or a buffer has no mapping).
   */
  copyIn(mem: GuestMemory, offset: number, src: Uint8Array, at = 0, len = src.length - at): number {
    return this.copy(mem, offset, src, at, len, true);
  }

  /** Marks in `log` the pages of the first `bytes` bytes of the held chains (what a frame's read wrote). */
  markWritten(log: DirtyLog, bytes: number): void {
    if (this.arena !== undefined) markArenaWritten(log, this.arena, this.start, bytes);
  }

  /** Marks the first `bytes` writable bytes of held chain `i` (0: the first) in `log`. */
  markChainWritten(log: DirtyLog, i: number, bytes: number): void {
    if (this.arena !== undefined && i >= 0 && i < this.length) markArenaWritten(log, this.arena, this.start + i, bytes);
  }

  /** Where the ring would resume if the pool were rewound now (its state after `rewind`). */
  resumePoint(q: DeviceQueue): QueueState {
    return q.rewoundState(this.rewindable(q));
  }

  /**
   * Gives every held chain back: moves `q.nextAvail` back over the trailing run of consecutively
   * popped chains, returns the others with used length 0 (published; the caller notifies), and
   * empties the pool. Returns the number of chains returned as used.
   */
  rewind(mem: GuestMemory, q: DeviceQueue): number {
    const back = this.rewindable(q);
    const keep = this.length - back;
    for (let i = 0; i < keep; i++) q.addUsed(mem, this.arena!.head[this.start + i]!, 0);
    q.unpop(back);
    this.arena?.clear();
    this.start = 0;
    this.total = 0;
    return keep;
  }

  /** Length of the trailing run of held chains at avail positions nextAvail-1, nextAvail-2, ... */
  private rewindable(q: DeviceQueue): number {
    const a = this.arena;
    return a === undefined ? 0 : trailingPops(q.popSeq, a.availPos, this.start, a.length);
  }

  /** The arena for queue `q` (made on first use, again when the queue size changes: the pool is empty then). */
  private arenaFor(q: DeviceQueue): ChainArena {
    let a = this.arena;
    if (a === undefined || a.maxChainDescs < q.size) {
      // Room for every chain of the ring held at once with two buffers each, plus one chain of any length.
      a = new ChainArena(q.size + 1, q.size, 3 * q.size);
      this.arena = a;
      this.mask = new Uint8Array(q.size + 1);
      this.start = 0;
      this.total = 0;
    }
    return a;
  }

  /** Drops the consumed chains in front of the held ones (moves the held ones to the front). */
  private compact(a: ChainArena): void {
    const mask = this.mask;
    mask.fill(0, 0, this.start);
    mask.fill(1, this.start, a.length);
    a.retain(mask);
    this.start = 0;
  }

  /** True when chain `c` can take a frame: enough writable bytes, few enough buffers, all mapped. */
  private usable(mem: GuestMemory, a: ChainArena, c: number): boolean {
    if (a.writable[c]! < this.minCapacity) return false;
    const from = a.descStart[c]! + a.firstWritable[c]!;
    const to = a.descStart[c]! + a.descCount[c]!;
    let buffers = 0;
    for (let k = from; k < to; k++) {
      const len = a.len[k]!;
      if (len === 0) continue;
      if (!mem.hostAddressInto(a.addr[k]!, len, this.addr, 0) || buffers === this.maxBuffers) return false;
      buffers++;
    }
    return true;
  }

  /**
   * Copies between buf[at, at + len) and the held chains' writable buffers from `offset` bytes into
   * the first one. Pieces up to SMALL_COPY bytes are copied byte by byte: a frame of a batch that
   * goes through its slot then makes no view of either side.
   */
  private copy(mem: GuestMemory, offset: number, buf: Uint8Array, at: number, len: number, toGuest: boolean): number {
    const a = this.arena;
    if (a === undefined || !(at >= 0) || !(len >= 0) || len > buf.length - at) return 0;
    let skip = offset;
    let done = 0;
    for (let c = this.start; c < a.length && done < len; c++) {
      const to = a.descStart[c]! + a.descCount[c]!;
      for (let k = a.descStart[c]! + a.firstWritable[c]!; k < to && done < len; k++) {
        const bufLen = a.len[k]!;
        if (skip >= bufLen) {
          skip -= bufLen;
          continue;
        }
        const take = Math.min(bufLen - skip, len - done);
        const gpa = a.addr[k]! + skip;
        const r = mem.regionOf(gpa, take);
        if (r === undefined) return done;
        const g = r.bytes;
        const off = gpa - r.guestPhysAddr;
        const b = at + done;
        if (take <= SMALL_COPY) {
          if (toGuest) for (let i = 0; i < take; i++) g[off + i] = buf[b + i]!;
          else for (let i = 0; i < take; i++) buf[b + i] = g[off + i]!;
        } else if (toGuest) g.set(buf.subarray(b, b + take), off);
        else buf.set(g.subarray(off, off + take), b);
        done += take;
        skip = 0;
      }
    }
    return done;
  }
}
