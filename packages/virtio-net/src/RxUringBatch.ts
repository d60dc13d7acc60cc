import type { GuestMemory } from '@vnic/core';
import { errnoName, IoUring, IoVecArray, readvFd, SysError } from '@vnic/sys';
import { ETH_HLEN, HDR, IOV_MAX, MAX_FRAME } from './queuePairConstants.ts';
import type { RxBatchSink } from './RxBatchSink.ts';

/** Most reads in flight at once (SQEs per io_uring_enter). */
export const RX_URING_ENTRIES = 32;
/** Reads of the first batch after a quiet spell; the batch doubles while every read finds a frame. */
const FIRST_BATCH = 2;
const EAGAIN_ERRNO = 11;
const EIO_ERRNO = 5;
/** Smallest frame the tap delivers: header + Ethernet header. */
const MIN_FRAME = HDR + ETH_HLEN;
/** Slots of RxUringBatch's `addrs`. */
const SLOTS = 0;
const OVERFLOW = 1;

/**
 * RX in batches through io_uring: one READV (RWF_NOWAIT) per held receive chain, up to
 * RX_URING_ENTRIES, submitted and reaped with one io_uring_enter. The reads of one submit run in
 * order, so frame j of the batch lands in chain j; each one that fits its chain and finds it at
 * the front of the pool is delivered there (zero copy), exactly as a readv would have left it.
 *
 * With MRG_RXBUF a frame may be larger than its chain: its read also covers a slot of bounce
 * memory for the rest (up to MAX_FRAME). A frame that cannot be delivered where it lies (larger
 * than its chain, refused by the filter, a read that found nothing while a later one found a
 * frame) shifts every later frame of the batch: from there on, each frame is copied out of its
 * chain into its slot (the slot then holds the whole frame) and delivered from there through the
 * front of the pool, in order, across as many chains as it needs. Frames the guest has no buffers
 * for yet stay in their slots (`pending`) until it posts some: nothing read is lost, order is kept.
 * The slots are one allocation of RX_URING_ENTRIES * MAX_FRAME bytes made on first use; the pages
 * only become resident once large frames pass through them.
 *
 * A tap that refuses RWF_NOWAIT from io_uring (EOPNOTSUPP: Linux 6.1's tun) or an io_uring_enter
 * that fails turns the batch off for good: `active` is false and RxPath reads with readv.
 * Nothing is allocated per frame.
 */
export class RxUringBatch {
  /** The tap queue was found empty by the batch's last read. */
  empty = false;
  /** A frame of the batch was larger than its chain (MRG_RXBUF): a stream of large frames may follow. */
  large = false;
  /** deliverPending stopped: the guest has no buffers for the next pending frame. */
  starved = false;
  private ring: IoUring | undefined;
  private readonly sink: RxBatchSink;
  private readonly mem: GuestMemory;
  private readonly tapFd: number;
  private readonly mrg: boolean;
  private readonly iov: IoVecArray;
  /**
   * Host addresses, kept in a typed array so none is passed as an argument (IoVecArray.pushAt):
   * [SLOTS] the slots (0 until allocated), [OVERFLOW] a byte nothing reads, the last iovec of every
   * read, reached only by a frame too large for it.
   */
  private readonly addrs = new Float64Array(2);
  /** Per read of the batch: the head of its chain, the chain's writable bytes, its offset from the pool's front. */
  private readonly heads = new Int32Array(RX_URING_ENTRIES);
  private readonly caps = new Int32Array(RX_URING_ENTRIES);
  private readonly offsets = new Float64Array(RX_URING_ENTRIES);
  private slots: Uint8Array | undefined;
  /** Frames waiting in slots, in order: pendingSlot[i], pendingLen[i] for i in pendingFrom..pendingTo-1. */
  private readonly pendingSlot = new Uint8Array(RX_URING_ENTRIES);
  private readonly pendingLen = new Int32Array(RX_URING_ENTRIES);
  private pendingFrom = 0;
  private pendingTo = 0;
  private next = FIRST_BATCH;
  private readonly one = new Int32Array(1);

  /**
   * @param iov the IO thread's RX iovec array (used within a call only).
   * @param overflowAddr host address of one spare byte (ThreadBuffers.sinkAddr + MAX_FRAME).
   */
  private constructor(ring: IoUring | undefined, sink: RxBatchSink, mem: GuestMemory, tapFd: number, mrg: boolean, iov: IoVecArray, overflowAddr: number) {
    this.ring = ring;
    this.sink = sink;
    this.mem = mem;
    this.tapFd = tapFd;
    this.mrg = mrg;
    this.iov = iov;
    this.addrs[OVERFLOW] = overflowAddr;
  }

  /**
   * A batch reader over `tapFd`; with `useRing` false, or where io_uring_setup fails, it is not
   * `active` and only `readOne` (readv) serves.
   */
  static create(sink: RxBatchSink, mem: GuestMemory, tapFd: number, mrg: boolean, iov: IoVecArray, overflowAddr: number, useRing: boolean): RxUringBatch {
    let ring: IoUring | undefined;
    try {
      // Only this thread submits (SINGLE_ISSUER, DEFER_TASKRUN where the kernel takes them).
      ring = useRing ? IoUring.create(RX_URING_ENTRIES, { singleIssuer: true }) : undefined;
    } catch {
      ring = undefined; // io_uring not available here: one readv per frame
    }
    try {
      // The tap as the ring's fixed file: no fd lookup and reference per READV. IoUring.close
      // unregisters it first, so the ring holds the tap no longer than the NIC does.
      ring?.registerFile(tapFd);
    } catch {
      // Not registered (e.g. RLIMIT_NOFILE accounting): SQEs name the fd.
    }
    return new RxUringBatch(ring, sink, mem, tapFd, mrg, iov, overflowAddr);
  }

  /** False once io_uring was refused or failed (or after close): read with readv. */
  get active(): boolean {
    return this.ring !== undefined;
  }

  /** Frames taken off the tap wait in slots for guest buffers: deliverPending first. */
  get pending(): boolean {
    return this.pendingFrom < this.pendingTo;
  }

  /** Releases the io_uring instance. Idempotent. */
  close(): void {
    this.ring?.close();
    this.ring = undefined;
  }

  /**
   * Reads up to `budget` frames (at most RX_URING_ENTRIES, fewer after a read found nothing) with
   * one io_uring_enter into the held chains (the pool is refilled first) and delivers them in
   * order; frames that cannot be delivered now stay `pending`. Returns the frames taken off the
   * tap. Sets `empty` when the last read found the tap empty and `large` when a frame was larger
   * than its chain. When io_uring turns out to be refused it returns 0 with `active` false.
   */
  read(budget: number): number {
    const ring = this.ring!;
    const sink = this.sink;
    const pool = sink.pool;
    this.empty = false;
    this.large = false;
    const want = Math.min(this.next, budget, RX_URING_ENTRIES);
    sink.refill(MIN_FRAME, want);
    const iov = this.iov;
    iov.clear();
    let k = 0;
    for (; k < want; k++) {
      const start = iov.length;
      if (!this.prepare(k)) break;
      ring.prepReadvOf(this.tapFd, iov, start, iov.length - start, k, true);
    }
    if (k === 0) return 0;
    const heldBytes = pool.capacity;
    try {
      ring.submitAndWait();
    } catch {
      this.close(); // io_uring_enter itself failed: nothing was read; readv from now on
      return 0;
    }
    this.markRead(ring.results, k);
    const taken = this.settle(ring.results, k, heldBytes);
    this.next = taken === k ? Math.min(RX_URING_ENTRIES, 2 * k) : Math.max(FIRST_BATCH, taken + 1);
    if (this.pending) this.deliverPending();
    return taken;
  }

  /**
   * Reads one frame with readv into the first held chain and a slot for the rest (MRG_RXBUF), so
   * a frame larger than the chains the guest has posted so far waits for more instead of being
   * truncated. Returns the frames taken off the tap (0 or 1); sets `empty`, `large` as read() does.
   */
  readOne(): number {
    this.empty = false;
    this.large = false;
    const pool = this.sink.pool;
    const iov = this.iov;
    iov.clear();
    if (!this.prepare(0)) return 0;
    const heldBytes = pool.capacity;
    const result = this.one;
    try {
      const n = readvFd(this.tapFd, iov);
      result[0] = n < 0 ? -EAGAIN_ERRNO : n;
    } catch (e) {
      result[0] = -(SysError.is(e) ? e.errno : EIO_ERRNO);
    }
    this.markRead(result, 1);
    const taken = this.settle(result, 1, heldBytes);
    if (this.pending) this.deliverPending();
    return taken;
  }

  /** While a migration runs: marks what reads 0..k-1 wrote into their chains (the slots are not guest memory). */
  private markRead(results: Int32Array, k: number): void {
    const log = this.sink.dirtyLog;
    if (log === null) return;
    const pool = this.sink.pool;
    for (let j = 0; j < k; j++) {
      const n = results[j]!;
      if (n > 0) pool.markChainWritten(log, j, Math.min(n, this.caps[j]!));
    }
  }

  /**
   * Takes the frames waiting in slots out of the batch, in order, as copies (header included): the
   * queue stops with them undelivered and they travel in its QueueState (`rxBacklog`) to the next
   * data plane, which delivers them first (`seed`).
   */
  takePending(): Uint8Array[] {
    const out: Uint8Array[] = [];
    for (let i = this.pendingFrom; i < this.pendingTo; i++) {
      const j = this.pendingSlot[i]!;
      out.push(this.slots!.slice(j * MAX_FRAME, j * MAX_FRAME + this.pendingLen[i]!));
    }
    this.pendingFrom = 0;
    this.pendingTo = 0;
    return out;
  }

  /**
   * Puts frames an earlier data plane read from the tap and could not deliver (`rxBacklog`, in
   * order, header included) into the slots as pending: delivered before anything read from the
   * tap. Frames beyond RX_URING_ENTRIES, shorter than header + Ethernet header or longer than
   * MAX_FRAME are not taken; returns how many were.
   */
  seed(frames: readonly Uint8Array[]): number {
    if (this.slots === undefined) this.allocSlots();
    let k = 0;
    for (const f of frames) {
      if (this.pendingTo === RX_URING_ENTRIES) break;
      if (f.length < MIN_FRAME || f.length > MAX_FRAME) continue;
      const j = this.pendingTo;
      this.slots!.set(f, j * MAX_FRAME);
      this.pendingSlot[j] = j;
      this.pendingLen[this.pendingTo++] = f.length;
      k++;
    }
    return k;
  }

  /** Appends the iovecs of read `k` (held chain k, its slot, the overflow byte); false when there is no chain k or no room. */
  private prepare(k: number): boolean {
    const pool = this.sink.pool;
    if (k >= pool.length) return false;
    if (this.slots === undefined) this.allocSlots();
    const iov = this.iov;
    const cap = pool.appendChain(k, iov, this.mem, IOV_MAX - 2);
    if (cap < 0) return false;
    this.heads[k] = pool.headAt(k)!;
    this.caps[k] = cap;
    this.offsets[k] = k === 0 ? 0 : this.offsets[k - 1]! + this.caps[k - 1]!;
    // MRG_RXBUF: the rest of a frame larger than the chain goes to the read's slot.
    if (this.mrg && cap < MAX_FRAME) iov.pushAt(this.addrs, SLOTS, MAX_FRAME - cap, k * MAX_FRAME + cap);
    iov.pushAt(this.addrs, OVERFLOW, 1);
    return true;
  }

  /**
   * Delivers the frames of reads 0..k-1 (`results`: bytes or -errno) in order: in place while
   * each one lies at the front of the pool, from its slot after the first that does not.
   * `heldBytes`: the pool's capacity when the reads were prepared. Returns the frames taken off the tap.
   */
  private settle(results: Int32Array, k: number, heldBytes: number): number {
    const sink = this.sink;
    const pool = sink.pool;
    const mem = this.mem;
    const mrg = this.mrg;
    let taken = 0;
    let inPlace = true;
    let refused = false;
    for (let j = 0; j < k; j++) {
      const n = results[j]!;
      if (n < 0) {
        const code = errnoName(-n);
        if (code === 'EOPNOTSUPP') refused = true;
        else if (code !== 'EAGAIN') sink.readFailed(-n);
        else if (j === k - 1) this.empty = true;
        inPlace = false; // chain j stays held: a later frame is not at the front of the pool
        continue;
      }
      taken++;
      const cap = this.caps[j]!;
      if (inPlace && n >= MIN_FRAME && n <= cap && pool.headAt(0) === this.heads[j] && !sink.rateDeferred) {
        if (!sink.deliverHeld(n)) inPlace = false; // filtered or waiting for tokens: chain j stays held at the front
        continue;
      }
      inPlace = false;
      if (n < MIN_FRAME || n > (mrg ? MAX_FRAME : cap)) {
        sink.dropped(); // no Ethernet header, or truncated (it reached the overflow byte)
        continue;
      }
      if (n > cap) this.large = true;
      // Copy the part in chain j into slot j (its rest, if any, is there already); the chains
      // consumed since the batch was read are gone from the pool's front.
      pool.copyOut(mem, this.offsets[j]! - (heldBytes - pool.capacity), this.slots!, j * MAX_FRAME, Math.min(n, cap));
      this.pendingSlot[this.pendingTo] = j;
      this.pendingLen[this.pendingTo++] = n;
    }
    if (refused) this.close();
    return taken;
  }

  /**
   * Delivers the pending frames, in order, through the front of the pool (refilled as needed);
   * stops with `starved` set when the guest has no buffers for the next one.
   */
  deliverPending(): void {
    const sink = this.sink;
    const pool = sink.pool;
    this.starved = false;
    while (this.pendingFrom < this.pendingTo) {
      if (sink.rateDeferred) return; // the frame in the front chains goes first, when tokens return
      const n = this.pendingLen[this.pendingFrom]!;
      if (!sink.refill(n, 1)) {
        this.starved = true;
        return;
      }
      const j = this.pendingSlot[this.pendingFrom++]!;
      if (!this.mrg && pool.countFor(n) > 1) {
        sink.dropped(); // without MRG_RXBUF the next chain is smaller than this frame's was
        continue;
      }
      pool.copyIn(this.mem, 0, this.slots!, j * MAX_FRAME, n);
      if (sink.dirtyLog !== null) pool.markWritten(sink.dirtyLog, n);
      sink.deliverHeld(n);
    }
    this.pendingFrom = 0;
    this.pendingTo = 0;
  }

  private allocSlots(): void {
    this.slots = new Uint8Array(RX_URING_ENTRIES * MAX_FRAME);
    this.addrs[SLOTS] = IoVecArray.addressOf(this.slots);
  }
}
