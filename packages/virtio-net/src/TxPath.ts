import { ChainArena, type GuestMemory, type QueueState } from '@vnic/core';
import { closeFd, dupFd, EPOLLONESHOT, EPOLLOUT, errnoName, IoUring, SysError, writevFd, type IoVecArray, type SqPollGroup } from '@vnic/sys';
import type { LoopQueue } from './LoopQueue.ts';
import { BUDGET, ETH_HLEN, EV_TAP_WRITABLE, HDR, IOV_MAX, MAX_FRAME, USED_BATCH } from './queuePairConstants.ts';
import type { QueuePairHost } from './QueuePairHost.ts';
import type { SharedNetState } from './SharedNetState.ts';
import { TapRoomPolicy } from './TapRoomPolicy.ts';
import type { ThreadBuffers } from './ThreadBuffers.ts';
import { trailingPops } from './trailingPops.ts';
import { TxRateGate } from './TxRateGate.ts';

/** What became of one chain of a TX step. */
const DONE = 0; // sent or dropped: goes to the used ring now
const KEPT = 1; // the tap had no room (EAGAIN, ENOBUFS): held, sent first once the tap is writable
/** Descriptors of a step's chains beyond the one whole chain popInto needs room for. */
const STEP_DESCS = 4 * USED_BATCH;

/**
 * The transmit side of a QueuePairLoop: drains the TX ring and writes each frame to the tap
 * straight from guest memory, with one writev per frame or, with io_uring, one io_uring_enter per
 * step (falling back to writev when io_uring is not there or fails); publishes the used ring and
 * notifies once per step (EVENT_IDX aware). With `txSqPoll` the ring is an SQPOLL ring of the IO
 * thread's SqPollGroup: each SQE is published as soon as it is written, so the kernel SQ thread
 * writes frame k while frame k+1 is prepared, and io_uring_enter only waits for the completions.
 *
 * Backpressure: when the tap has no room for a frame (EAGAIN: its send buffer is full, see
 * TUNSETSNDBUF; or ENOBUFS: no memory for it, a bounded number of times, see TapRoomPolicy), the
 * frame and the ones after it are held, not dropped; TX stops, counts a wait
 * (`txWaits`) and watches the tap for EPOLLOUT (one-shot, through a duplicate of the tap fd
 * registered as EV_TAP_WRITABLE); `onTapWritable` lets it go on, held frames first. The guest's
 * notifications stay off meanwhile, so a waiting TX costs no CPU. With io_uring every write is
 * RWF_NOWAIT (io_uring would otherwise wait for room inside io_uring_enter and stall the thread).
 * The SQEs of a step run one after the other but do not stop at the first refusal, so a frame
 * that found room (the kernel freed some meanwhile) leaves ahead of an earlier one that did not:
 * after a wait TX therefore writes one writev per frame (stopping at the first refusal, so in
 * order) until a whole step goes out, and only then goes back to io_uring. Frames can change
 * order only in the step where the tap first runs full.
 *
 * No object is made per frame: chains are parsed into a ChainArena (SplitQueue.popInto), the
 * iovecs and SQEs are written in place (host addresses through typed arrays, never as heap
 * numbers), heads and lengths go to typed arrays: about 2 bytes of V8 heap per frame (`vnic bench
 * virtio-net`, IoHeapCounter), the ring state published per step.
 */
export class TxPath {
  /** More chains may wait (the turn's budget ran out, or the tap became writable): the loop comes back without sleeping. */
  txPending = false;
  /** The tap refused a frame: TX waits for EV_TAP_WRITABLE (onTapWritable); kicks are ignored meanwhile. */
  txBlocked = false;
  readonly queue: LoopQueue;
  private readonly host: QueuePairHost;
  private readonly mem: GuestMemory;
  private readonly net: SharedNetState;
  private readonly tapFd: number;
  /** A duplicate of the tap fd, registered (one-shot, disarmed but while waiting) for EPOLLOUT. */
  private readonly writableFd: number;
  private readonly txIov: IoVecArray;
  /** The IO thread's SQPOLL rings (one kernel SQ thread): where an SQPOLL TX ring comes from. */
  private readonly sqPoll: SqPollGroup;
  private readonly heads = new Uint16Array(USED_BATCH);
  private readonly lens = new Uint32Array(USED_BATCH);
  /**
   * The chains of the current step; between steps, the chains the tap refused (held, in ring
   * order, with their avail positions), sent first at the next step.
   */
  private readonly chains: ChainArena;
  /** DONE or KEPT per chain of the step. */
  private readonly txStatus = new Uint8Array(USED_BATCH);
  /** TX with io_uring: one SQE per frame, one io_uring_enter per step (undefined: writev per frame). */
  private uring: IoUring | undefined;
  /** The tap ran full and no step has gone out whole since: writev per frame (in order) meanwhile. */
  private pressure = false;
  /**
   * [host address, length] of the iovec appendTxIovecs pushed last (a one-buffer frame's
   * IORING_OP_WRITE); a typed array, so no heap number is made per frame.
   */
  private readonly last = new Float64Array(2);
  /** Per chain of a TX step: its readable length when its SQE was queued, -1 when it was not. */
  private readonly txSizes = new Int32Array(USED_BATCH);
  /** The NIC's TX rate limit (undefined: the NIC has none to share); chains over it wait in the ring. */
  readonly rateGate: TxRateGate | undefined;
  /** Which refusals are a lack of room (wait for EPOLLOUT) and when an ENOBUFS streak becomes a drop. */
  private readonly room = new TapRoomPolicy();

  constructor(host: QueuePairHost, queue: LoopQueue, buffers: ThreadBuffers) {
    this.host = host;
    this.queue = queue;
    this.mem = host.mem;
    this.net = host.net;
    this.tapFd = host.tapFd;
    this.txIov = buffers.txIov;
    this.sqPoll = buffers.sqPoll;
    this.chains = new ChainArena(USED_BATCH, queue.q.size, queue.q.size + STEP_DESCS);
    this.rateGate = host.rateLimit === undefined ? undefined : new TxRateGate(host.rateLimit, queue.index);
    this.writableFd = dupFd(host.tapFd);
    try {
      // Registered disarmed (one-shot, no events): an error report fires at most once.
      host.epoll.add(this.writableFd, EPOLLONESHOT, EV_TAP_WRITABLE);
    } catch (e) {
      closeFd(this.writableFd);
      throw e;
    }
    if (host.data.txIoUring) {
      try {
        this.uring = this.createRing(host.data.txSqPoll === true);
      } catch {
        this.uring = undefined; // io_uring not available here: one writev per frame
      }
    }
  }

  /** The TX ring: on the thread's SQ thread with `sqPoll` where the kernel takes it, else a plain ring (throws where io_uring is not there). */
  private createRing(sqPoll: boolean): IoUring {
    if (sqPoll) {
      try {
        return this.sqPoll.create(USED_BATCH);
      } catch {
        // No SQPOLL here (before Linux 5.11, or refused): io_uring_enter submits.
      }
    }
    // Only this thread submits (SINGLE_ISSUER, DEFER_TASKRUN where the kernel takes them), and the
    // tap is the ring's fixed file: no fd lookup and reference per SQE. IoUring.close unregisters
    // it first, so the ring holds the tap no longer than the NIC does.
    const ring = IoUring.create(USED_BATCH, { singleIssuer: true });
    try {
      ring.registerFile(this.tapFd);
    } catch {
      // Not registered (e.g. RLIMIT_NOFILE accounting): SQEs name the fd.
    }
    return ring;
  }

  /** Closes the TX ring (the thread's SQ thread ends with its last SQPOLL ring). */
  private closeRing(ring: IoUring): void {
    if (ring.sqPoll) this.sqPoll.release(ring);
    else ring.close();
  }

  /** Releases the io_uring instance and the EPOLLOUT watch. Held chains stay held: rewind() first. */
  close(): void {
    if (this.uring !== undefined) this.closeRing(this.uring);
    try {
      this.host.epoll.remove(this.writableFd);
    } catch {
      // The epoll is already closed (a dedicated thread closes it first): nothing is registered.
    }
    closeFd(this.writableFd);
  }

  /** The tap has room again (EV_TAP_WRITABLE): TX goes on at the loop's next turn, held frames first. */
  onTapWritable(): void {
    if (!this.txBlocked) return;
    this.txBlocked = false;
    this.txPending = true;
  }

  /** The ring position to resume from: as if the held chains were given back (see rewind). */
  ringState(): QueueState {
    const q = this.queue.q;
    return q.rewoundState(trailingPops(q.popSeq, this.chains.availPos, 0, this.chains.length));
  }

  /**
   * Gives the held chains back when the queue stops: moves nextAvail back over the trailing run
   * of consecutively popped ones (the next activation sends them), returns any other with used
   * length 0, counted as a drop (moving back over a chain already used would repeat its id).
   * The caller publishes and notifies.
   */
  rewind(): void {
    const a = this.queue;
    const q = a.q;
    const held = this.chains;
    const count = held.length;
    const back = trailingPops(q.popSeq, held.availPos, 0, count);
    for (let i = 0; i < count - back; i++) {
      q.addUsed(this.mem, held.head[i]!, 0);
      a.c.drops++;
    }
    q.unpop(back);
    held.clear();
  }

  /**
   * True when TX keeps the guest's kicks off for a reason of its own (its budget ran out, the tap
   * is full, it waits for rate-limit tokens, the ring is broken): polling must leave them so.
   */
  get holdsKicks(): boolean {
    return this.txPending || this.txBlocked || this.rateGate?.throttled === true || this.queue.q.needsReset;
  }

  /**
   * Drains the TX ring into the tap, a budget's worth at most. Kicks are off while it runs; when
   * the ring is empty it asks for them again (and looks once more), unless `polled`: the IO thread
   * is polling this ring (AvailPoll) and turns kicks back on itself before it sleeps, so a guest
   * that posts its next frame while the thread is still busy does not kick it for nothing.
   */
  serviceTx(polled = false): void {
    const a = this.queue;
    this.txPending = false;
    if (a.q.needsReset || this.txBlocked) return;
    const { mem } = this;
    const q = a.q;
    const chains = this.chains;
    const status = this.txStatus;
    const heads = this.heads;
    const lens = this.lens;
    let budget = BUDGET;
    for (;;) {
      q.disableNotification(mem);
      // Held chains (the tap refused them) are already at the front of the arena.
      const limit = Math.max(chains.length, Math.min(budget, a.notifier.step(USED_BATCH)));
      while (chains.length < limit && q.popInto(mem, chains));
      const n = chains.length;
      budget = Math.max(0, budget - n);
      // Malformed chains met by pop() are counted before any frame of the batch leaves.
      this.host.syncMalformed(a);
      this.host.publish(a);
      for (let i = 0; i < n; i++) status[i] = DONE;
      const gate = this.rateGate;
      const go = gate === undefined ? n : gate.admit(chains, n, a.c);
      for (let i = go; i < n; i++) status[i] = KEPT; // over the rate limit: held, sent when tokens return
      // A step of one frame (a request/response guest) goes out with writev: an io_uring_enter for
      // one SQE costs more than the writev it replaces (3.8 against 3.4 us for an ICMP echo here).
      if (this.uring !== undefined && !this.pressure && go > 1) this.transmitBatch(a, go, this.uring);
      else this.transmitEach(a, 0, go);
      gate?.settle(chains, status, n, go, a.c);
      let used = 0;
      for (let i = 0; i < n; i++) {
        if (status[i] === KEPT) continue;
        heads[used] = chains.head[i]!;
        lens[used] = 0;
        used++;
      }
      q.addUsedBatch(mem, heads, lens, used);
      if (chains.retain(status) > 0) {
        if (gate === undefined || gate.tapFull) this.waitWritable(a);
      } else if (n > 0) this.pressure = false;
      this.host.publish(a);
      a.notifier.notify(mem);
      if (this.host.checkBroken(a) || this.txBlocked || gate?.throttled === true) return;
      if (budget === 0) {
        this.txPending = true; // more may wait: come back after RX had its turn
        return;
      }
      if (n === limit || !chains.hasRoom) continue; // a full step: the ring may hold more
      if (polled ? q.pending(mem) === 0 : !q.enableNotification(mem)) return; // polled: more came meanwhile? go on
    }
  }

  /** Marks the tap full: one wait counted, EPOLLOUT armed (reported at once when room came meanwhile). */
  private waitWritable(a: LoopQueue): void {
    this.txBlocked = true;
    this.pressure = true;
    a.c.txWaits++;
    this.host.epoll.modify(this.writableFd, EPOLLOUT | EPOLLONESHOT, EV_TAP_WRITABLE);
  }

  /** Writes chains from..to-1 one writev each; from the first the tap has no room for, every chain is KEPT. */
  private transmitEach(a: LoopQueue, from: number, to: number): void {
    for (let i = from; i < to; i++) {
      if (this.transmit(a, i)) continue;
      for (let j = i; j < to; j++) this.txStatus[j] = KEPT;
      return;
    }
  }

  /** Sends (or drops) the frame of chain `chain` of the step with writev; false when the tap has no room for it (EAGAIN, ENOBUFS). */
  private transmit(a: LoopQueue, chain: number): boolean {
    const c = a.c;
    const len = this.chains.readable[chain]!;
    if (this.txRefused(len, this.net.linkUp)) {
      c.drops++;
      return true;
    }
    const iov = this.txIov;
    iov.clear();
    if (!this.appendTxIovecs(chain)) {
      c.drops++;
      return true;
    }
    try {
      if (writevFd(this.tapFd, iov) < 0) return false; // EAGAIN: the tap's send buffer is full
    } catch (e) {
      const room = this.room.refused(SysError.is(e) ? e.code : undefined);
      if (room === 'wait') return false; // ENOBUFS: the kernel had no memory for it just now
      c.drops++;
      if (room === undefined) this.host.tapError(e, 'writev', a.index);
      return true;
    }
    this.room.sent();
    c.packets++;
    c.bytes += len - HDR;
    return true;
  }

  /**
   * True when a TX frame of `len` readable bytes cannot go out: link down, dead tap, runt or over
   * MAX_FRAME (`linkUp` read by the caller: once per batch on the io_uring path).
   */
  private txRefused(len: number, linkUp: boolean): boolean {
    return !linkUp || this.host.tapDead || len < HDR + ETH_HLEN || len > MAX_FRAME;
  }

  /**
   * Appends the readable buffers of chain `chain` of the step (zero-length ones skipped) to txIov
   * as host addresses; false when one lies outside guest memory or txIov is full.
   */
  private appendTxIovecs(chain: number): boolean {
    const iov = this.txIov;
    const mem = this.mem;
    const { addr: addrs, len: lens } = this.chains;
    const first = this.chains.descStart[chain]!;
    const end = first + this.chains.firstWritable[chain]!;
    for (let k = first; k < end; k++) {
      const len = lens[k]!;
      if (len === 0) continue;
      const last = this.last;
      if (!mem.hostAddressInto(addrs[k]!, len, last, 0) || iov.length === IOV_MAX) return false;
      iov.pushAt(last, 0, len);
      last[1] = len;
    }
    return true;
  }

  /**
   * Writes the `n` frames of one TX step with io_uring: each chain's readable buffers become
   * iovecs side by side in txIov, one WRITEV SQE (RWF_NOWAIT) per frame, and one io_uring_enter
   * submits them all and waits for their completions (tap writes complete inline), in ring order.
   */
  private transmitBatch(a: LoopQueue, n: number, ring: IoUring): void {
    const c = a.c;
    const chains = this.chains;
    const iov = this.txIov;
    const sizes = this.txSizes;
    const linkUp = this.net.linkUp;
    iov.clear();
    let from = 0;
    for (let i = 0; i < n; i++) {
      const len = chains.readable[i]!;
      sizes[i] = -1;
      const count = chains.firstWritable[i]!;
      if (this.txRefused(len, linkUp) || count > IOV_MAX) {
        c.drops++;
        continue;
      }
      if (iov.length + count > IOV_MAX) {
        // No room for this frame's iovecs: write what is queued, then start the array over.
        const full = this.completeBatch(a, ring, from, i);
        if (full) {
          for (let j = i; j < n; j++) this.txStatus[j] = KEPT;
          return;
        }
        if (this.uring === undefined) {
          this.transmitEach(a, i, n);
          return;
        }
        iov.clear();
        from = i;
      }
      const start = iov.length;
      if (!this.appendTxIovecs(i)) {
        c.drops++; // the iovecs pushed so far are left unused: no SQE points at them
        continue;
      }
      // A frame in one buffer (what a Linux guest posts): a WRITE, with no iovec for the kernel to import.
      if (iov.length - start === 1) ring.prepWriteAt(this.tapFd, this.last, 0, this.last[1]!, i, true);
      else ring.prepWritevOf(this.tapFd, iov, start, iov.length - start, i, true);
      sizes[i] = len;
      // SQPOLL: the SQ thread writes this frame while the next SQEs are prepared.
      if (ring.sqPoll) ring.publish();
    }
    this.completeBatch(a, ring, from, n);
  }

  /**
   * Submits the queued SQEs of chains from..to-1 and counts each result (bytes, or -errno: a
   * drop; -EAGAIN, -ENOBUFS: the chain is KEPT, see TapRoomPolicy). Returns true when the tap had
   * no room for one of them.
   */
  private completeBatch(a: LoopQueue, ring: IoUring, from: number, to: number): boolean {
    const c = a.c;
    const sizes = this.txSizes;
    try {
      ring.submitAndWait();
    } catch {
      // io_uring_enter itself failed: none of these frames is known to have left. Count them as
      // drops and use writev from now on.
      for (let j = from; j < to; j++) if (sizes[j]! >= 0) c.drops++;
      this.closeRing(ring);
      this.uring = undefined;
      return false;
    }
    const results = ring.results;
    let full = false;
    let noWaitRefused = false;
    for (let j = from; j < to; j++) {
      const len = sizes[j]!;
      if (len < 0) continue;
      const r = results[j]!;
      if (r >= 0) {
        this.room.sent();
        c.packets++;
        c.bytes += len - HDR;
        continue;
      }
      const code = errnoName(-r);
      const room = this.room.refused(code);
      if (room === 'drop') {
        c.drops++; // ENOBUFS too many times in a row
        continue;
      }
      if (room === 'wait' || code === 'EOPNOTSUPP') {
        // EOPNOTSUPP: this kernel's tun does not take RWF_NOWAIT from io_uring (Linux 6.1 does
        // not; newer kernels do). The frame is kept like a full tap's and TX goes on with writev.
        if (code === 'EOPNOTSUPP') noWaitRefused = true;
        this.txStatus[j] = KEPT;
        full = true;
        continue;
      }
      c.drops++;
      this.host.tapError(new SysError({ syscall: 'writev', errno: -r, target: `fd ${this.tapFd}` }), 'writev', a.index);
    }
    if (noWaitRefused) {
      this.closeRing(ring);
      this.uring = undefined;
    }
    return full;
  }
}
