import { VnicError } from '../errors/VnicError.ts';

/**
 * Preallocated storage for descriptor chains popped without allocating (`SplitQueue.popInto`):
 * chain `c` (0..length-1) is head[c], availPos[c], readable[c] / writable[c] bytes, and
 * descriptors descStart[c] .. descStart[c]+descCount[c]-1 of the flat arrays addr / len (guest
 * addresses, checked against guest memory at pop time, like DescriptorChain's), readable ones
 * first: the first writable one is descStart[c]+firstWritable[c]. Nothing here points into guest
 * memory; `clear()` forgets every chain, `truncate(n)` all but the first n.
 *
 * One popInto needs room for a whole chain before it reads one: a free chain slot and
 * `maxChainDescs` free descriptors (a chain of a queue of size S has at most S buffers).
 */
export class ChainArena {
  /** Most chains held at once. */
  readonly chainCapacity: number;
  /** Most descriptors held at once, over all chains. */
  readonly descCapacity: number;
  /** Most descriptors one chain may take (the queue size). */
  readonly maxChainDescs: number;
  /** Head descriptor index of the chain: the id to return in the used ring. */
  readonly head: Uint16Array;
  /** Avail ring index (u16) the chain was popped from. */
  readonly availPos: Uint16Array;
  /** Index of the chain's first descriptor in addr / len. */
  readonly descStart: Uint32Array;
  /** Number of descriptors of the chain. */
  readonly descCount: Uint32Array;
  /** Index of the first writable descriptor within the chain (descCount[c] when none). */
  readonly firstWritable: Uint32Array;
  /** Bytes of the chain's device-readable buffers. */
  readonly readable: Float64Array;
  /** Bytes of the chain's device-writable buffers. */
  readonly writable: Float64Array;
  /** Guest-physical address of each descriptor (a safe integer: checked at pop time). */
  readonly addr: Float64Array;
  /** Length of each descriptor. */
  readonly len: Uint32Array;
  /** Chains held. */
  length = 0;
  /** Descriptors held (the next chain's first goes at this index). */
  descs = 0;

  /**
   * @param chainCapacity most chains held at once
   * @param maxChainDescs most descriptors of one chain: the size of the queue popped from
   * @param descCapacity descriptors over all chains (at least maxChainDescs; default enough for
   *   every chain to be that long)
   */
  constructor(chainCapacity: number, maxChainDescs: number, descCapacity = chainCapacity * maxChainDescs) {
    for (const [name, v] of [
      ['chainCapacity', chainCapacity],
      ['maxChainDescs', maxChainDescs],
      ['descCapacity', descCapacity],
    ] as const) {
      if (!Number.isInteger(v) || v < 1 || v > 1 << 24) throw new VnicError('invalid-argument', `ChainArena ${name} ${v} is not an integer in 1..${1 << 24}`);
    }
    if (descCapacity < maxChainDescs) {
      throw new VnicError('invalid-argument', `ChainArena descCapacity ${descCapacity} is below maxChainDescs ${maxChainDescs}: no chain would fit`);
    }
    this.chainCapacity = chainCapacity;
    this.descCapacity = descCapacity;
    this.maxChainDescs = maxChainDescs;
    this.head = new Uint16Array(chainCapacity);
    this.availPos = new Uint16Array(chainCapacity);
    this.descStart = new Uint32Array(chainCapacity);
    this.descCount = new Uint32Array(chainCapacity);
    this.firstWritable = new Uint32Array(chainCapacity);
    this.readable = new Float64Array(chainCapacity);
    this.writable = new Float64Array(chainCapacity);
    this.addr = new Float64Array(descCapacity);
    this.len = new Uint32Array(descCapacity);
  }

  /** True when one more chain of any length fits. */
  get hasRoom(): boolean {
    return this.length < this.chainCapacity && this.descCapacity - this.descs >= this.maxChainDescs;
  }

  /**
   * popInto's entry check, shared by SplitQueue and PackedQueue: true when one more chain of a
   * queue of `queueSize` fits; throws a VnicError when the arena was made for a smaller queue.
   */
  roomFor(queueSize: number): boolean {
    if (this.maxChainDescs < queueSize) {
      throw new VnicError('invalid-argument', `ChainArena maxChainDescs ${this.maxChainDescs} is below the queue size ${queueSize}`);
    }
    return this.hasRoom;
  }

  /** Forgets every chain. */
  clear(): void {
    this.length = 0;
    this.descs = 0;
  }

  /**
   * Keeps the chains `c` with `mask[c] !== 0`, in order, moved to the front (their descriptors
   * too); returns how many were kept.
   */
  retain(mask: ArrayLike<number>): number {
    let kept = 0;
    let descs = 0;
    for (let c = 0; c < this.length; c++) {
      if (mask[c] === 0) continue;
      const from = this.descStart[c]!;
      const count = this.descCount[c]!;
      if (kept !== c) {
        this.head[kept] = this.head[c]!;
        this.availPos[kept] = this.availPos[c]!;
        this.firstWritable[kept] = this.firstWritable[c]!;
        this.readable[kept] = this.readable[c]!;
        this.writable[kept] = this.writable[c]!;
        this.descCount[kept] = count;
      }
      if (from !== descs) {
        this.addr.copyWithin(descs, from, from + count);
        this.len.copyWithin(descs, from, from + count);
      }
      this.descStart[kept] = descs;
      descs += count;
      kept++;
    }
    this.length = kept;
    this.descs = descs;
    return kept;
  }

  /** Keeps the first `n` chains only (n <= length). */
  truncate(n: number): void {
    if (n >= this.length) return;
    this.length = n;
    this.descs = n === 0 ? 0 : this.descStart[n - 1]! + this.descCount[n - 1]!;
  }
}
