import { VnicError } from '@vnic/core';
import { IOV_MAX, IOVEC_SIZE } from '../linux/socket.ts';
import { libc } from '../native/libc.ts';

const TWO_32 = 0x1_0000_0000;

/**
 * A reusable array of `struct iovec` (linux/uio.h) for readv/writev, preallocated once and
 * refilled per frame without allocating: `clear()`, then `push(hostAddr, len)` per buffer.
 * Addresses are host virtual addresses (from GuestMemory.hostAddress or a mapping), as Number
 * (< 2^53) or BigInt.
 */
export class IoVecArray {
  /** Most iovecs this array holds (at most IOV_MAX = 1024). */
  readonly capacity: number;
  /** Address of the first struct iovec (what readv/writev take). */
  readonly address: bigint;
  /** `address` as a Number, for the io_uring SQEs that point at these iovecs (IoUring.prepWritevOf). */
  readonly hostAddress: number;
  private count = 0;
  private total = 0;
  // NATIVE: the iovecs live in this ArrayBuffer; V8 never moves an ArrayBuffer's backing store, and
  // `address` stays valid as long as this object (which references the buffer) is alive.
  private readonly buffer: ArrayBuffer;
  private readonly words: Uint32Array;
  // JS buffers pushed with pushBytes, kept reachable until clear() so their addresses stay valid.
  private readonly pinned: (Uint8Array | undefined)[];
  private pinnedCount = 0;

  constructor(capacity = 64) {
    if (!Number.isInteger(capacity) || capacity < 1 || capacity > IOV_MAX) {
      throw new VnicError('invalid-argument', `iovec capacity ${capacity} is not an integer in 1..${IOV_MAX}`);
    }
    this.capacity = capacity;
    this.buffer = new ArrayBuffer(capacity * IOVEC_SIZE);
    this.words = new Uint32Array(this.buffer);
    this.address = libc.address(this.buffer);
    this.hostAddress = Number(this.address);
    this.pinned = new Array<Uint8Array | undefined>(capacity).fill(undefined);
  }

  /** Number of iovecs in use. */
  get length(): number {
    return this.count;
  }

  /** Sum of the lengths of the iovecs in use. */
  get byteLength(): number {
    return this.total;
  }

  /** Empties the array (and releases buffers pinned by pushBytes). */
  clear(): void {
    this.total = 0;
    if (this.pinnedCount > 0) {
      // Only slots below the count can hold a pinned buffer: clearing those keeps clear() O(used)
      // (a per-frame cost on the RX path, which pins one overflow byte per readv).
      this.pinned.fill(undefined, 0, this.count);
      this.pinnedCount = 0;
    }
    this.count = 0;
  }

  /**
   * Appends one buffer by host address. The memory must stay mapped until the readv/writev
   * using this array returns. Throws when the array is full.
   */
  push(hostAddr: number | bigint, len: number): void {
    this.store(typeof hostAddr === 'number' ? hostAddr : Number(hostAddr), len);
  }

  /**
   * Appends one buffer at host address `src[at] + offset`, as push does. For the hot paths: a host
   * address is above 2^31, and one passed as an argument to a call the JIT does not inline is a
   * heap number made per call; read out of a typed array here, it never is.
   */
  pushAt(src: Float64Array, at: number, len: number, offset = 0): void {
    this.store(src[at]! + offset, len);
  }

  private store(addr: number, len: number): void {
    const i = this.count;
    if (i === this.capacity) throw new VnicError('invalid-state', `iovec array is full (${this.capacity} entries)`);
    const w = this.words;
    const base = i << 2;
    // `x >>> 0` is x mod 2^32 for any integer below 2^53 (and, unlike `%` on a non-Smi, no fmod call).
    const addrLo = addr >>> 0;
    w[base] = addrLo;
    w[base + 1] = (addr - addrLo) / TWO_32;
    const lenLo = len >>> 0;
    w[base + 2] = lenLo;
    w[base + 3] = (len - lenLo) / TWO_32;
    this.count = i + 1;
    this.total += len;
  }

  /**
   * Host address of JS memory as a Number, for `push` on a hot path: a buffer that lives as long
   * as the code using the address (the caller keeps it reachable) is resolved once instead of by
   * `pushBytes` on every call. V8 never moves a backing store once its address was taken.
   */
  static addressOf(bytes: Uint8Array): number {
    return Number(libc.address(bytes));
  }

  /** Appends JS memory (a Uint8Array or a subarray); it is kept reachable until clear(). */
  pushBytes(bytes: Uint8Array): void {
    const i = this.count;
    this.push(libc.address(bytes), bytes.byteLength);
    this.pinned[i] = bytes;
    this.pinnedCount++;
  }
}
