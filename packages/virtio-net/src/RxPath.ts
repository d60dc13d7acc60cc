import { rxFilterAccepts, type DirtyLog, type GuestMemory, type NetCtrlState } from '@vnic/core';
import { EPOLLIN, EPOLLONESHOT, readFd, readvFd, SysError, type IoVecArray } from '@vnic/sys';
import type { IoWorkerData } from './IoWorkerData.ts';
import type { LoopQueue } from './LoopQueue.ts';
import { BUDGET, ETH_HLEN, EV_TAP, HDR, MAX_FRAME, RX_MAX_BUFFERS, USED_BATCH } from './queuePairConstants.ts';
import type { QueuePairHost } from './QueuePairHost.ts';
import type { RxBatchSink } from './RxBatchSink.ts';
import { RxChainPool } from './RxChainPool.ts';
import { RxRateGate } from './RxRateGate.ts';
import { RxUringBatch } from './RxUringBatch.ts';
import type { SharedNetState } from './SharedNetState.ts';
import type { ThreadBuffers } from './ThreadBuffers.ts';

/**
 * With MRG_RXBUF, bytes of guest buffers handed to readv directly; the rest of a frame's possible
 * 65562 bytes is read into a bounce buffer and copied into the next buffers only when a frame is
 * that large. Handing readv all ~33 buffers of 2 KiB for every 64-byte frame costs more (an iovec
 * each, built in JS and imported by the kernel) than the rare copy. After a large frame every
 * buffer goes to readv directly again (a GSO stream stays zero-copy) until SMALL_RUN small ones.
 */
const ZERO_COPY_MIN = 4096;
const SMALL_RUN = 1024;

/**
 * The receive side of a QueuePairLoop: reads each frame with readv straight into the guest's
 * buffers (MRG_RXBUF: across as many chains as needed, num_buffers set afterwards), applies the
 * receive filter and link state, and stops polling the tap while the guest has no buffer. With
 * io_uring (the default) small frames are read in batches instead, one READV per held chain and
 * one io_uring_enter per batch (RxUringBatch); large frames (MRG_RXBUF, a GSO stream) and a tap
 * that refuses io_uring's RWF_NOWAIT go through readv.
 */
export class RxPath implements RxBatchSink {
  /** More frames may wait (the turn's budget ran out): the loop comes back without sleeping. */
  rxPending = false;
  /** The guest has no buffer: the tap is not polled until the RX kick. */
  rxStalled = false;
  /** While a migration runs: where the pages of every byte read into guest buffers are marked. */
  dirtyLog: DirtyLog | null = null;
  readonly queue: LoopQueue;
  /** The chains popped and not filled yet (the loop rewinds them when it stops). */
  readonly pool: RxChainPool;
  private readonly host: QueuePairHost;
  private readonly data: IoWorkerData;
  private readonly mem: GuestMemory;
  private readonly net: SharedNetState;
  private readonly tapFd: number;
  private readonly rxIov: IoVecArray;
  private readonly bounce: Uint8Array;
  /** [0]: the thread's bounce buffer's host address (in a typed array: see IoVecArray.pushAt). */
  private readonly sinkAddr = new Float64Array(1);
  private readonly scratch: Uint8Array;
  /** filterHeads[k]: the first k bytes of the thread's filter scratch (a frame head that spans buffers is copied there). */
  private readonly filterHeads: Uint8Array[];
  private readonly heads: Uint16Array;
  private readonly lens: Uint32Array;
  /** [guest address, length] of the first buffer of the first held chain (RxChainPool.firstBuffer). */
  private readonly firstBuf = new Float64Array(2);
  /** Header fields written where the header spans buffers (num_buffers, flags). */
  private readonly hdrBytes = new Uint8Array(2);
  private zeroCopyLimit = ZERO_COPY_MIN;
  private smallRun = 0;
  private filter: NetCtrlState;
  private filterVersion: number;
  /** Used elements of the current step, not yet in the used ring. */
  private used = 0;
  /** Batched reads through io_uring (when `active`), and single reads that keep a frame the chains cannot take yet. */
  private readonly batch: RxUringBatch;
  /** The NIC's RX rate limit (undefined: the NIC has none to share). */
  readonly rateGate: RxRateGate | undefined;
  /** Bytes (header included) of a frame read into the held chains that waits for tokens (0: none). */
  private deferred = 0;
  /** flushAtStop runs: what is delivered now is not held back by the rate limit. */
  private stopping = false;

  constructor(host: QueuePairHost, queue: LoopQueue, buffers: ThreadBuffers) {
    this.host = host;
    this.queue = queue;
    this.data = host.data;
    this.mem = host.mem;
    this.net = host.net;
    this.tapFd = host.tapFd;
    ({ rxIov: this.rxIov, bounce: this.bounce, scratch: this.scratch } = buffers);
    this.sinkAddr[0] = buffers.sinkAddr;
    this.filterHeads = Array.from({ length: ETH_HLEN + 3 }, (_, k) => buffers.filterHead.subarray(0, k));
    // Without MRG_RXBUF one chain takes a whole frame: one smaller than the smallest frame the
    // loop delivers (header + Ethernet header) could never be filled and is refused.
    this.pool = new RxChainPool(RX_MAX_BUFFERS, host.data.mrgRxbuf ? HDR : HDR + ETH_HLEN);
    // One step's used elements: USED_BATCH frames, the last of which may take every held chain.
    this.heads = new Uint16Array(USED_BATCH + queue.q.size);
    this.lens = new Uint32Array(USED_BATCH + queue.q.size);
    ({ state: this.filter, version: this.filterVersion } = this.net.readFilter());
    this.rateGate = host.rateLimit === undefined ? undefined : new RxRateGate(host.rateLimit, queue.index);
    this.batch = RxUringBatch.create(this, this.mem, this.tapFd, host.data.mrgRxbuf, this.rxIov, buffers.sinkAddr + MAX_FRAME, host.data.rxIoUring);
    // Frames an earlier data plane of this queue read and could not deliver: they go first.
    const backlog = host.data.rx?.state?.rxBacklog;
    if (backlog !== undefined) queue.c.drops += backlog.length - this.batch.seed(backlog);
  }

  /** Releases the io_uring instance (RX batches). */
  close(): void {
    this.batch.close();
  }

  /**
   * Moves frames from the tap into the guest's buffers, up to the turn's budget. With `once` (a read
   * right after a TX step, RxAfterTx) it reads one frame, with one readv: a reply the tap may hold.
   * An io_uring batch costs more for one frame (2.0 against 0.9 us here, its second read finding the
   * tap empty), and more frames, if any, keep the tap readable for the next epoll round. A frame
   * that must wait for buffers is handled as on every read (the guest is asked for its RX kick),
   * and a stream of large frames is still read straight into the chains.
   */
  serviceRx(once = false): void {
    const a = this.queue;
    this.rxPending = false;
    if (a.q.needsReset || this.host.tapDead || this.rxStalled) return;
    const { mem, pool, heads, lens, batch } = this;
    const q = a.q;
    const c = a.c;
    const mrg = this.data.mrgRxbuf;
    if (this.net.filterVersion !== this.filterVersion) {
      ({ state: this.filter, version: this.filterVersion } = this.net.readFilter(this.filter));
    }
    this.used = 0;
    let budget = BUDGET;
    if (this.deferred > 0) {
      // A frame waits for tokens in the held chains: it goes first, or RX goes on waiting.
      const n = this.deferred;
      if (!this.rateGate!.take(n - HDR)) return;
      this.deferred = 0;
      this.patchHeader(n);
      this.used += pool.consume(n, heads, lens, this.used);
      c.packets++;
      c.bytes += n - HDR;
      if (!this.host.tapDead) this.host.epoll.modify(this.tapFd, EPOLLIN, EV_TAP);
    }
    while (budget > 0) {
      if (batch.pending) {
        batch.deliverPending(); // frames read earlier, waiting for buffers: they go first
        if (this.deferred > 0) break; // one of them waits for tokens
        if (batch.starved) {
          if (this.host.checkBroken(a) || !this.buffersArrived()) break;
          continue;
        }
      }
      if (!this.net.linkUp) {
        // Link down: frames are taken off the tap and dropped, the guest's buffers stay untouched.
        const n = this.readTap(this.scratch, a.index);
        if (n < 0) break;
        c.drops++;
        budget--;
        continue;
      }
      if (mrg ? pool.capacity < MAX_FRAME : pool.length === 0) pool.fill(mem, q, mrg ? MAX_FRAME : 1, q.size, this.onUnusable);
      if (pool.length === 0) {
        if (this.host.checkBroken(a) || !this.buffersArrived()) break;
        continue;
      }
      // io_uring: batches, but for a stream of large frames the chains can take whole (zero copy).
      // readv with MRG_RXBUF: a frame that may be larger than the chains posted so far is read with
      // a slot for its rest, kept there until the guest posts more (never truncated).
      const largeFits = pool.capacity >= MAX_FRAME;
      if (batch.active ? !mrg || this.zeroCopyLimit === ZERO_COPY_MIN || !largeFits : mrg && !largeFits) {
        budget -= batch.active && !once ? batch.read(budget) : batch.readOne();
        if (batch.large) {
          this.zeroCopyLimit = MAX_FRAME; // a GSO stream may follow: readv straight into the chains
          this.smallRun = 0;
        }
        if (this.deferred > 0) break; // a frame waits for tokens (later ones of the batch wait in slots)
        if (batch.pending) continue; // frames wait for buffers: the guest is asked to kick first
        if (once || batch.empty || this.host.tapDead) break; // `once`: the one frame asked for is delivered
        continue; // more may wait (or io_uring was refused: readv from now on)
      }
      const iov = this.rxIov;
      iov.clear();
      const direct = pool.fillIov(iov, mem, mrg ? this.zeroCopyLimit : MAX_FRAME, RX_MAX_BUFFERS);
      // MRG_RXBUF: whatever the held chains hold beyond `direct` is read into the bounce buffer.
      const rest = mrg ? Math.min(pool.capacity, MAX_FRAME) - direct : 0;
      if (rest > 0) iov.pushAt(this.sinkAddr, 0, rest); // the bounce buffer
      const capacity = direct + Math.max(0, rest);
      iov.pushAt(this.sinkAddr, 0, 1, MAX_FRAME); // the overflow byte, right after the bounce buffer
      let n: number;
      try {
        n = readvFd(this.tapFd, iov);
      } catch (e) {
        c.drops++;
        this.host.tapError(e, 'readv', a.index);
        break;
      }
      if (n < 0) break; // the tap queue is empty
      budget--;
      // What reached guest memory: the whole frame when it fits (its tail copied below), else what readv put in `direct`.
      if (this.dirtyLog !== null) pool.markWritten(this.dirtyLog, n <= capacity && n >= HDR + ETH_HLEN ? n : Math.min(n, direct));
      if (n > capacity || n < HDR + ETH_HLEN) {
        c.drops++; // did not fit the buffers (truncated) or no Ethernet header: the chains stay held
        continue;
      }
      if (n > direct) {
        // A large frame: its tail goes from the bounce buffer into the chains after `direct`.
        pool.copyIn(mem, direct, this.bounce.subarray(0, n - direct));
        this.zeroCopyLimit = MAX_FRAME;
        this.smallRun = 0;
      } else if (this.zeroCopyLimit !== ZERO_COPY_MIN && ++this.smallRun >= SMALL_RUN) {
        this.zeroCopyLimit = ZERO_COPY_MIN;
      }
      this.deliverHeld(n);
      if (once || this.deferred > 0) break; // `once`: delivered; or over the rate limit: the tap is not read until tokens return
    }
    if (budget === 0) this.rxPending = true;
    this.host.syncMalformed(a);
    if (this.used > 0) q.addUsedBatch(mem, heads, lens, this.used);
    this.used = 0;
    this.host.publish(a);
    a.notifier.notify(mem);
    this.host.checkBroken(a);
  }

  /**
   * Out of buffers: true when the guest posted some meanwhile (go on), otherwise the tap is not
   * polled until the RX kick (a frame waiting or arriving meanwhile is a noBuffer) and false.
   */
  private buffersArrived(): boolean {
    const q = this.queue.q;
    if (q.enableNotification(this.mem)) {
      q.disableNotification(this.mem); // buffers arrived meanwhile: no kicks needed while we have some
      return true;
    }
    this.stallTapPolling();
    return false;
  }

  /** The frame of `n` bytes now in the held chains from the first: filter, header, used elements (see RxBatchSink). */
  deliverHeld(n: number): boolean {
    const a = this.queue;
    const c = a.c;
    if (!this.filter.promisc && !this.filterAccepts(n)) {
      c.filtered++; // consumed from the tap, never delivered: the chains stay held
      return false;
    }
    if (this.rateGate !== undefined && !this.stopping && !this.rateGate.take(n - HDR)) {
      // Over the rate limit: the frame stays in the held chains and the tap is not read until tokens return.
      this.deferred = n;
      this.host.epoll.modify(this.tapFd, 0, EV_TAP);
      return false;
    }
    this.patchHeader(n);
    this.used += this.pool.consume(n, this.heads, this.lens, this.used);
    c.packets++;
    c.bytes += n - HDR;
    if (this.used >= a.notifier.step(USED_BATCH)) {
      // Hand this step's buffers to the guest now; the turn goes on.
      a.q.addUsedBatch(this.mem, this.heads, this.lens, this.used);
      this.used = 0;
      this.host.publish(a);
      a.notifier.notify(this.mem);
    }
    return true;
  }

  /** Pops chains until the pool can take `n` bytes (MRG_RXBUF) or one chain, and holds `chains` chains if the ring has them. */
  refill(n: number, chains: number): boolean {
    const pool = this.pool;
    const q = this.queue.q;
    const mrg = this.data.mrgRxbuf;
    if (pool.length < chains) pool.fill(this.mem, q, Infinity, chains, this.onUnusable);
    // MRG_RXBUF: as much as the largest frame takes, as the readv path holds.
    if (mrg && pool.capacity < Math.max(n, MAX_FRAME)) pool.fill(this.mem, q, Math.max(n, MAX_FRAME), q.size, this.onUnusable);
    return mrg ? pool.capacity >= n : pool.length > 0;
  }

  /** A frame waits for rate-limit tokens in the held chains: nothing else may be delivered before it. */
  get rateDeferred(): boolean {
    return this.deferred > 0;
  }

  /** A frame taken off the tap that could not be delivered. */
  dropped(): void {
    this.queue.c.drops++;
  }

  /** A batched read failed with `errno`. */
  readFailed(errno: number): void {
    this.queue.c.drops++;
    this.host.tapError(new SysError({ syscall: 'readv', errno, target: `fd ${this.tapFd}` }), 'readv', this.queue.index);
  }

  private readonly onUnusable = (): void => {
    this.queue.unusable++;
  };

  /**
   * The receive filter over the frame's first 16 bytes (Ethernet header + VLAN TCI), read where
   * they lie in the first buffer when they are all there (no view made per frame), else copied
   * out of the chains into `filterHeads`.
   */
  private filterAccepts(n: number): boolean {
    const want = Math.min(n - HDR, ETH_HLEN + 2);
    const d = this.firstBuf;
    if (this.pool.firstBuffer(d) && d[1]! >= HDR + want) {
      const gpa = d[0]! + HDR;
      const r = this.mem.regionOf(gpa, want);
      if (r !== undefined) return rxFilterAccepts(r.bytes, this.filter, gpa - r.guestPhysAddr, want);
    }
    const head = this.filterHeads[want]!;
    return rxFilterAccepts(head, this.filter, 0, this.pool.copyOut(this.mem, HDR, head));
  }

  /** Sets num_buffers (and clears flags without GUEST_CSUM) in the header at the start of the first held chain. */
  private patchHeader(frameBytes: number): void {
    const pool = this.pool;
    const buffers = this.data.mrgRxbuf ? pool.countFor(frameBytes) : 1;
    const mem = this.mem;
    const d = this.firstBuf;
    if (!pool.firstBuffer(d)) return;
    const r = d[1]! >= HDR ? mem.regionOf(d[0]!, HDR) : undefined;
    if (r !== undefined) {
      const off = d[0]! - r.guestPhysAddr;
      r.view.setUint16(off + 10, buffers, true);
      if (!this.data.guestCsum) r.view.setUint8(off, 0);
      return;
    }
    // The header spans buffers of the first chain (it always fits in the chain: >= 12 bytes).
    const b = this.hdrBytes;
    b[0] = buffers & 0xff;
    b[1] = buffers >>> 8;
    pool.copyIn(mem, 10, b);
    if (!this.data.guestCsum) {
      b[0] = 0;
      pool.copyIn(mem, 0, b.subarray(0, 1));
    }
  }

  /**
   * The queue stops (before the rewind): a frame waiting for rate-limit tokens is delivered now (it
   * lies in the guest's chains already: one frame over the limit rather than a lost one), the
   * frames waiting in slots go, in order, into whatever buffers the guest posted meanwhile, and the
   * used elements are added. Returns the frames left for want of buffers, in order, header
   * included: the queue's `rxBacklog`, which the next data plane delivers before anything else.
   */
  flushAtStop(): Uint8Array[] {
    const a = this.queue;
    this.used = 0;
    this.stopping = true;
    if (this.deferred > 0) {
      const n = this.deferred;
      this.deferred = 0;
      this.patchHeader(n);
      this.used += this.pool.consume(n, this.heads, this.lens, this.used);
      a.c.packets++;
      a.c.bytes += n - HDR;
    }
    if (this.batch.pending && this.net.linkUp) this.batch.deliverPending();
    if (this.used > 0) a.q.addUsedBatch(this.mem, this.heads, this.lens, this.used);
    this.used = 0;
    return this.batch.takePending();
  }

  private readTap(buf: Uint8Array, queueIndex: number): number {
    try {
      return readFd(this.tapFd, buf);
    } catch (e) {
      this.host.tapError(e, 'read', queueIndex);
      return -1;
    }
  }

  /** Stops reading the tap until the RX kick; one readiness report is kept to count the noBuffer event. */
  stallTapPolling(): void {
    if (this.rxStalled) return;
    this.rxStalled = true;
    this.host.epoll.modify(this.tapFd, EPOLLIN | EPOLLONESHOT, EV_TAP);
  }

  resumeTapPolling(): void {
    this.rxStalled = false;
    this.queue.q.disableNotification(this.mem);
    if (!this.host.tapDead) this.host.epoll.modify(this.tapFd, EPOLLIN, EV_TAP);
  }
}
