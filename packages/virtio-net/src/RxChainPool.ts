import type { DescriptorChain, GuestMemory, SplitQueue } from '@vnic/core';
import type { IoVecArray } from '@vnic/sys';

const HDR = 12;
/** Consumed entries at the front of the held array after which it is compacted. */
const COMPACT_AT = 4096;

/** A popped receive chain with its writable buffers resolved to host addresses once. */
interface HeldChain {
  readonly chain: DescriptorChain;
  /** Avail ring index (u16) the chain was popped from. */
  readonly availPos: number;
  /** Host address and length of each non-empty writable buffer. */
  readonly addrs: number[];
  readonly lens: number[];
  /** Writable bytes. */
  readonly capacity: number;
}

/**
 * The receive chains an IO thread popped but has not filled yet, in pop order. A frame is read
 * (readv) across the first chains of the pool straight into guest memory; the chains it did not
 * need stay here for the next frame, so a popped chain is never lost and SplitQueue needs no
 * "unpop". When the thread stops, `rewind` hands the unused chains back to the ring: it moves
 * nextAvail back over the trailing chains that were popped consecutively (the usual case), and
 * returns any other held chain with used length 0, because moving back over a malformed chain
 * that pop() already returned would make the guest see its id twice.
 */
export class RxChainPool {
  // The held chains are held[start..]: consume() advances `start` instead of shifting the array
  // (Array.prototype.shift moved every element, per frame), and the consumed prefix is dropped
  // when the pool runs empty or every COMPACT_AT frames.
  private readonly held: (HeldChain | undefined)[] = [];
  private start = 0;
  private total = 0;
  private readonly maxBuffers: number;
  private readonly minCapacity: number;

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
    return this.held.length - this.start;
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
  fill(mem: GuestMemory, q: SplitQueue, target: number, maxChains: number, onUnusable: () => void): number {
    let added = 0;
    while (this.total < target && this.held.length - this.start < maxChains) {
      const chain = q.pop(mem);
      if (chain === undefined) break;
      const availPos = (q.nextAvail - 1) & 0xffff;
      const held = this.resolve(mem, chain, availPos);
      if (held === undefined) {
        q.addUsed(mem, chain.head, 0);
        onUnusable();
        continue;
      }
      this.held.push(held);
      this.total += held.capacity;
      added++;
    }
    return added;
  }

  /**
   * Appends the buffers of the held chains, in order, to `iov` until `limit` bytes are covered, the
   * chains run out or `iov` has `maxIov` entries (a chain is added whole or not at all). Returns the
   * bytes covered.
   */
  fillIov(iov: IoVecArray, limit: number, maxIov: number): number {
    let covered = 0;
    for (let i = this.start; i < this.held.length && covered < limit; i++) {
      const h = this.held[i]!;
      if (iov.length + h.addrs.length > maxIov) break;
      for (let k = 0; k < h.addrs.length; k++) iov.push(h.addrs[k]!, h.lens[k]!);
      covered += h.capacity;
    }
    return covered;
  }

  /** The first held chain (where the frame's virtio_net_hdr lands), or undefined. */
  first(): DescriptorChain | undefined {
    return this.held[this.start]?.chain;
  }

  /**
   * Removes the chains a frame of `bytes` bytes (header included) filled, from the front, and
   * appends each one's head and used length to `heads`/`lens` at `at`. Returns how many were used.
   */
  consume(bytes: number, heads: number[], lens: number[], at: number): number {
    const held = this.held;
    const first = this.start;
    const count = held.length - first;
    let left = bytes;
    let n = 0;
    while (left > 0 && n < count) {
      const h = held[first + n]!;
      const used = Math.min(left, h.capacity);
      heads[at + n] = h.chain.head;
      lens[at + n] = used;
      left -= used;
      n++;
    }
    if (n === 0 && count > 0) {
      // A zero-length frame still occupies one buffer (never happens with a real tap).
      heads[at] = held[first]!.chain.head;
      lens[at] = 0;
      n = 1;
    }
    for (let i = first; i < first + n; i++) {
      this.total -= held[i]!.capacity;
      held[i] = undefined; // no reference kept to a chain handed back
    }
    this.start = first + n;
    if (this.start === held.length) {
      held.length = 0;
      this.start = 0;
    } else if (this.start >= COMPACT_AT) {
      held.splice(0, this.start);
      this.start = 0;
    }
    return n;
  }

  /** Number of chains, from the front, that a frame of `bytes` bytes (header included) fills. */
  countFor(bytes: number): number {
    const count = this.held.length - this.start;
    let left = bytes;
    let n = 0;
    while (left > 0 && n < count) left -= this.held[this.start + n++]!.capacity;
    return Math.max(n, count > 0 ? 1 : 0);
  }

  /**
   * Copies `out.length` bytes of what was read into the held chains, starting `offset` bytes into
   * the first one, into `out` (across buffers and chains). Returns the bytes copied.
   */
  copyOut(mem: GuestMemory, offset: number, out: Uint8Array): number {
    let skip = offset;
    let got = 0;
    for (let c = this.start; c < this.held.length && got < out.length; c++) {
      const chain = this.held[c]!.chain;
      const descs = chain.descriptors;
      for (let i = chain.firstWritable; i < descs.length && got < out.length; i++) {
        const d = descs[i]!;
        if (skip >= d.len) {
          skip -= d.len;
          continue;
        }
        const take = Math.min(d.len - skip, out.length - got);
        const src = mem.slice(d.addr + skip, take);
        if (src === undefined) return got;
        out.set(src, got);
        got += take;
        skip = 0;
      }
    }
    return got;
  }

  /**
   * Copies `src` into the held chains' writable buffers starting `offset` bytes into the first
   * chain (across buffers and chains): the tail of a frame that was read into a bounce buffer
   * because it went past the buffers handed to readv. Returns the bytes copied (fewer only when
   * the chains run out or a buffer has no mapping).
   */
  copyIn(mem: GuestMemory, offset: number, src: Uint8Array): number {
    let skip = offset;
    let put = 0;
    for (let c = this.start; c < this.held.length && put < src.length; c++) {
      const chain = this.held[c]!.chain;
      const descs = chain.descriptors;
      for (let i = chain.firstWritable; i < descs.length && put < src.length; i++) {
        const d = descs[i]!;
        if (skip >= d.len) {
          skip -= d.len;
          continue;
        }
        const take = Math.min(d.len - skip, src.length - put);
        const dst = mem.slice(d.addr + skip, take);
        if (dst === undefined) return put;
        dst.set(src.subarray(put, put + take));
        put += take;
        skip = 0;
      }
    }
    return put;
  }

  /** Where the ring would resume if the pool were rewound now (nextAvail after `rewind`). */
  resumePoint(q: SplitQueue): number {
    return (q.nextAvail - this.rewindable(q)) & 0xffff;
  }

  /**
   * Gives every held chain back: moves `q.nextAvail` back over the trailing run of consecutively
   * popped chains, returns the others with used length 0 (published; the caller notifies), and
   * empties the pool. Returns the number of chains returned as used.
   */
  rewind(mem: GuestMemory, q: SplitQueue): number {
    const back = this.rewindable(q);
    const keep = this.held.length - this.start - back;
    for (let i = 0; i < keep; i++) q.addUsed(mem, this.held[this.start + i]!.chain.head, 0);
    q.nextAvail = (q.nextAvail - back) & 0xffff;
    this.held.length = 0;
    this.start = 0;
    this.total = 0;
    return keep;
  }

  /** Length of the trailing run of held chains at avail positions nextAvail-1, nextAvail-2, ... */
  private rewindable(q: SplitQueue): number {
    let expect = (q.nextAvail - 1) & 0xffff;
    let n = 0;
    for (let i = this.held.length - 1; i >= this.start; i--) {
      if (this.held[i]!.availPos !== expect) break;
      expect = (expect - 1) & 0xffff;
      n++;
    }
    return n;
  }

  private resolve(mem: GuestMemory, chain: DescriptorChain, availPos: number): HeldChain | undefined {
    if (chain.writableLength < this.minCapacity) return undefined;
    const addrs: number[] = [];
    const lens: number[] = [];
    const descs = chain.descriptors;
    for (let i = chain.firstWritable; i < descs.length; i++) {
      const d = descs[i]!;
      if (d.len === 0) continue;
      const addr = mem.hostAddress(d.addr, d.len);
      if (addr === undefined || addrs.length === this.maxBuffers) return undefined;
      addrs.push(addr);
      lens.push(d.len);
    }
    return { chain, availPos, addrs, lens, capacity: chain.writableLength };
  }
}
