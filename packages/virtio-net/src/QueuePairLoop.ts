import { rxFilterAccepts, SplitQueue, type DescriptorChain, type GuestMemory, type NetCtrlState, type QueueContext, type QueueState } from '@vnic/core';
import { VIRTIO_NET_HDR_SIZE, VIRTIO_NET_MAX_FRAME } from '@vnic/core/virtio_net';
import { Epoll, EPOLLIN, EPOLLONESHOT, errnoName, EventFd, guestMemoryFromLayout, IoUring, IoVecArray, readFd, readvFd, SysError, writevFd } from '@vnic/sys';
import { IO_WORKER_STOP } from './IO_WORKER_STOP.ts';
import type { IoWorkerData } from './IoWorkerData.ts';
import type { IoWorkerMessage } from './IoWorkerMessage.ts';
import type { QueueCounters } from './QueueCounters.ts';
import { RxChainPool } from './RxChainPool.ts';
import { SharedNetState } from './SharedNetState.ts';
import { SharedQueueCounters } from './SharedQueueCounters.ts';

const HDR = VIRTIO_NET_HDR_SIZE;
const ETH_HLEN = 14;
/** Largest frame either way, virtio_net_hdr included. */
const MAX_FRAME = VIRTIO_NET_MAX_FRAME;
/** iovecs per readv/writev (IOV_MAX). */
const IOV_MAX = 1024;
/**
 * Most guest buffers one RX readv takes: IOV_MAX less the bounce buffer (MRG_RXBUF) and the
 * overflow byte. A chain with more buffers could never be read into; the pool refuses it.
 */
const RX_MAX_BUFFERS = IOV_MAX - 2;
/** Chains (TX) or frames (RX) handled per turn before the other direction gets a turn. */
const BUDGET = 256;
/**
 * Chains (TX) or frames (RX) after which the used ring is published (and the guest notified if it
 * asked): within a turn the guest gets its buffers back in these steps, so it can refill the ring
 * while the device goes on instead of finding it empty at the end of a turn (a ring of 256 would
 * otherwise be drained completely before the guest saw a single used buffer).
 */
const USED_BATCH = 64;
/**
 * With MRG_RXBUF, bytes of guest buffers handed to readv directly; the rest of a frame's possible
 * 65562 bytes is read into a bounce buffer and copied into the next buffers only when a frame is
 * that large. Handing readv all ~33 buffers of 2 KiB for every 64-byte frame costs more (an iovec
 * each, built in JS and imported by the kernel) than the rare copy. After a large frame every
 * buffer goes to readv directly again (a GSO stream stays zero-copy) until SMALL_RUN small ones.
 */
const ZERO_COPY_MIN = 4096;
const SMALL_RUN = 1024;

// epoll data of each watched fd.
const EV_CONTROL = 0;
const EV_RX_KICK = 1;
const EV_TX_KICK = 2;
const EV_TAP = 3;
const EV_CTRL_KICK = 4;

/** An IoWorkerMessage before the worker entry adds its job number. */
type LoopMessage = IoWorkerMessage extends infer M ? (M extends unknown ? Omit<M, 'job'> : never) : never;

/** Buffers of the IO thread, allocated by its first job. */
let threadBuffers:
  | { rxIov: IoVecArray; txIov: IoVecArray; bounce: Uint8Array; sinkAddr: number; scratch: Uint8Array; filterHead: Uint8Array }
  | undefined;

interface Queue {
  readonly index: number;
  readonly q: SplitQueue;
  readonly kick: EventFd;
  readonly call: EventFd;
  readonly c: QueueCounters;
  /** q.malformed is per activation; the published count adds it to what earlier activations counted. */
  readonly malformedBase: number;
  /** RX chains that cannot take a frame (too small, too many buffers), returned with used length 0. */
  unusable: number;
  reported: boolean;
}

/**
 * The data plane of one queue pair, run by its IO thread (ioWorker.ts): a blocking epoll over the
 * RX and TX kick eventfds, the tap queue fd, the control eventfd and (pair 0) the control queue's
 * kick. TX drains the ring, writes each frame to the tap with writev straight from guest memory,
 * publishes the used ring once and notifies once per batch (EVENT_IDX aware), and re-enables
 * notifications before sleeping. RX reads each frame with readv straight into the guest's buffers
 * (MRG_RXBUF: across as many chains as needed, num_buffers set afterwards), applies the receive
 * filter and link state, and stops polling the tap while the guest has no buffer. Nothing a guest
 * writes makes it throw; ring corruption and a dead tap queue are posted as `needs-reset`.
 */
export class QueuePairLoop {
  private readonly data: IoWorkerData;
  private readonly post: (msg: LoopMessage) => void;
  private readonly mem: GuestMemory;
  private readonly counters: SharedQueueCounters;
  private readonly net: SharedNetState;
  private readonly command: Int32Array;
  private readonly control: EventFd;
  private readonly ctrlKick: EventFd | undefined;
  private readonly rx: Queue | undefined;
  private readonly tx: Queue | undefined;
  private readonly tapFd: number;
  private readonly epoll: Epoll;
  private readonly pool: RxChainPool;
  private readonly rxIov: IoVecArray;
  private readonly txIov: IoVecArray;
  // The tail of a large frame (MRG_RXBUF) lands here first; see ZERO_COPY_MIN.
  private readonly bounce: Uint8Array;
  // Host address of `bounce`; the byte after it (+MAX_FRAME) is the overflow byte: one byte past
  // the guest's buffers, a frame that reaches it did not fit (the tap truncates silently).
  private readonly sinkAddr: number;
  private zeroCopyLimit = ZERO_COPY_MIN;
  private smallRun = 0;
  private readonly scratch: Uint8Array;
  private readonly filterHead: Uint8Array;
  private readonly heads: number[] = [];
  private readonly lens: number[] = [];
  private readonly txChains: DescriptorChain[] = [];
  /** TX with io_uring: one SQE per frame, one io_uring_enter per step (undefined: writev per frame). */
  private uring: IoUring | undefined;
  /** Per chain of a TX step: its readable length when its SQE was queued, -1 when it was dropped. */
  private readonly txSizes: number[] = [];
  private filter: NetCtrlState;
  private filterVersion: number;
  private rxStalled = false;
  private rxPending = false;
  private txPending = false;
  private tapDead = false;

  constructor(data: IoWorkerData, post: (msg: LoopMessage) => void) {
    this.data = data;
    this.post = post;
    this.mem = guestMemoryFromLayout(data.memory);
    this.counters = new SharedQueueCounters(data.counters);
    this.net = new SharedNetState(data.netState);
    this.command = new Int32Array(data.command);
    this.control = EventFd.fromFd(data.controlFd);
    this.ctrlKick = data.ctrlKickFd === undefined ? undefined : EventFd.fromFd(data.ctrlKickFd);
    this.tapFd = data.tapFd;
    // Without MRG_RXBUF one chain takes a whole frame: one smaller than the smallest frame the
    // loop delivers (header + Ethernet header) could never be filled and is refused.
    this.pool = new RxChainPool(RX_MAX_BUFFERS, data.mrgRxbuf ? HDR : HDR + ETH_HLEN);
    // Jobs on a pooled thread run one after the other: they share its buffers.
    if (threadBuffers === undefined) {
      // The bounce buffer and the overflow byte are one allocation, kept for the thread's life, so
      // their address is resolved once (no pushBytes per frame).
      const sink = new Uint8Array(MAX_FRAME + 1);
      threadBuffers = {
        rxIov: new IoVecArray(IOV_MAX),
        txIov: new IoVecArray(IOV_MAX),
        bounce: sink.subarray(0, MAX_FRAME),
        sinkAddr: IoVecArray.addressOf(sink),
        scratch: new Uint8Array(MAX_FRAME),
        filterHead: new Uint8Array(ETH_HLEN + 2),
      };
    }
    ({ rxIov: this.rxIov, txIov: this.txIov, bounce: this.bounce, sinkAddr: this.sinkAddr, scratch: this.scratch, filterHead: this.filterHead } = threadBuffers);
    this.rx = data.rx === undefined ? undefined : this.queue(data.rx);
    this.tx = data.tx === undefined ? undefined : this.queue(data.tx);
    ({ state: this.filter, version: this.filterVersion } = this.net.readFilter());
    this.epoll = Epoll.create();
    try {
      this.epoll.add(data.controlFd, EPOLLIN, EV_CONTROL);
      if (this.rx !== undefined) {
        this.epoll.add(data.rx!.kickFd, EPOLLIN, EV_RX_KICK);
        this.epoll.add(this.tapFd, EPOLLIN, EV_TAP);
      }
      if (this.tx !== undefined) this.epoll.add(data.tx!.kickFd, EPOLLIN, EV_TX_KICK);
      if (data.ctrlKickFd !== undefined) this.epoll.add(data.ctrlKickFd, EPOLLIN, EV_CTRL_KICK);
    } catch (e) {
      this.epoll.close();
      throw e;
    }
    if (this.tx !== undefined && data.txIoUring) {
      try {
        this.uring = IoUring.create(USED_BATCH);
      } catch {
        this.uring = undefined; // io_uring not available here: one writev per frame
      }
    }
  }

  /**
   * Polls until the main thread sets IO_WORKER_STOP, then gives held RX buffers back and returns the
   * ring positions to resume from. Blocks the calling thread.
   */
  run(): { rx?: QueueState; tx?: QueueState } {
    const mem = this.mem;
    try {
      for (const a of [this.rx, this.tx]) {
        if (a === undefined) continue;
        a.q.validate(mem);
        this.checkBroken(a);
      }
      if (this.rx !== undefined) this.rx.q.disableNotification(mem);
      this.post({ type: 'ready' });
      this.poll();
      return this.finish();
    } finally {
      this.epoll.close();
      this.uring?.close();
    }
  }

  private poll(): void {
    // Buffers may already wait (a resumed ring): look once before sleeping.
    this.serviceTx();
    this.serviceRx();
    for (;;) {
      let rxKick = false;
      let txKick = false;
      let tapReady = false;
      let stop = false;
      const events = this.epoll.wait(8, this.rxPending || this.txPending ? 0 : -1);
      for (const ev of events) {
        switch (ev.data) {
          case EV_CONTROL:
            this.control.read();
            if ((Atomics.load(this.command, 0) & IO_WORKER_STOP) !== 0) stop = true;
            break;
          case EV_RX_KICK:
            this.rx?.kick.read();
            rxKick = true;
            break;
          case EV_TX_KICK:
            this.tx?.kick.read();
            txKick = true;
            break;
          case EV_TAP:
            tapReady = true;
            break;
          case EV_CTRL_KICK:
            this.ctrlKick?.read();
            this.post({ type: 'ctrl-kick' });
            break;
        }
      }
      if (stop) return;
      if (tapReady && this.rxStalled) {
        // A frame arrived while the guest has no buffer: count it once per stall (the one-shot
        // registration is now disarmed, so the waiting frame cannot make this thread spin).
        tapReady = false;
        this.rx!.c.noBuffer++;
        this.publish(this.rx!);
      }
      if (txKick || this.txPending) this.serviceTx();
      if (rxKick && this.rxStalled) this.resumeTapPolling();
      if (rxKick || tapReady || this.rxPending) this.serviceRx();
    }
  }

  // ---- transmit ---------------------------------------------------------------------------------

  private serviceTx(): void {
    const a = this.tx;
    this.txPending = false;
    if (a === undefined || a.q.needsReset) return;
    const { mem } = this;
    const q = a.q;
    const chains = this.txChains;
    const heads = this.heads;
    const lens = this.lens;
    let budget = BUDGET;
    for (;;) {
      q.disableNotification(mem);
      chains.length = 0;
      const limit = Math.min(budget, USED_BATCH);
      while (chains.length < limit) {
        const chain = q.pop(mem);
        if (chain === undefined) break;
        chains.push(chain);
      }
      budget -= chains.length;
      // Malformed chains met by pop() are counted before any frame of the batch leaves.
      this.syncMalformed(a);
      this.publish(a);
      for (let i = 0; i < chains.length; i++) {
        heads[i] = chains[i]!.head;
        lens[i] = 0;
      }
      if (this.uring !== undefined) this.transmitBatch(a, chains, this.uring);
      else for (let i = 0; i < chains.length; i++) this.transmit(a, chains[i]!);
      q.addUsedBatch(mem, heads, lens, chains.length);
      this.publish(a);
      if (q.needsNotification(mem)) a.call.write(1n);
      if (this.checkBroken(a)) return;
      if (budget === 0) {
        this.txPending = true; // more may wait: come back after RX had its turn
        return;
      }
      if (chains.length === limit) continue; // a full step: the ring may hold more
      if (!q.enableNotification(mem)) return;
    }
  }

  private transmit(a: Queue, chain: DescriptorChain): void {
    const c = a.c;
    const len = chain.readableLength;
    if (this.txRefused(len, this.net.linkUp)) {
      c.drops++;
      return;
    }
    const iov = this.txIov;
    iov.clear();
    if (!this.appendTxIovecs(chain)) {
      c.drops++;
      return;
    }
    try {
      if (writevFd(this.tapFd, iov) < 0) {
        c.drops++; // the tap queue is full (EAGAIN): the kernel would drop it too
        return;
      }
    } catch (e) {
      c.drops++;
      this.tapError(e, 'writev', a.index);
      return;
    }
    c.packets++;
    c.bytes += len - HDR;
  }

  /**
   * True when a TX frame of `len` readable bytes cannot go out: link down, dead tap, runt or over
   * MAX_FRAME (`linkUp` read by the caller: once per batch on the io_uring path).
   */
  private txRefused(len: number, linkUp: boolean): boolean {
    return !linkUp || this.tapDead || len < HDR + ETH_HLEN || len > MAX_FRAME;
  }

  /**
   * Appends the readable buffers of `chain` (zero-length ones skipped) to txIov as host addresses;
   * false when one lies outside guest memory or txIov is full.
   */
  private appendTxIovecs(chain: DescriptorChain): boolean {
    const iov = this.txIov;
    const mem = this.mem;
    const descs = chain.descriptors;
    for (let k = 0; k < chain.firstWritable; k++) {
      const d = descs[k]!;
      if (d.len === 0) continue;
      const addr = mem.hostAddress(d.addr, d.len);
      if (addr === undefined || iov.length === IOV_MAX) return false;
      iov.push(addr, d.len);
    }
    return true;
  }

  /**
   * Writes the frames of one TX step with io_uring: each chain's readable buffers become iovecs
   * side by side in txIov, one WRITEV SQE per frame, and one io_uring_enter submits them all and
   * waits for their completions (tap writes complete inline), in ring order.
   */
  private transmitBatch(a: Queue, chains: readonly DescriptorChain[], ring: IoUring): void {
    const c = a.c;
    const iov = this.txIov;
    const sizes = this.txSizes;
    const iovBase = Number(iov.address);
    const linkUp = this.net.linkUp;
    iov.clear();
    let from = 0;
    for (let i = 0; i < chains.length; i++) {
      const chain = chains[i]!;
      const len = chain.readableLength;
      sizes[i] = -1;
      const count = chain.firstWritable;
      if (this.txRefused(len, linkUp) || count > IOV_MAX) {
        c.drops++;
        continue;
      }
      if (iov.length + count > IOV_MAX) {
        // No room for this frame's iovecs: write what is queued, then start the array over.
        this.completeBatch(a, ring, from, i);
        if (this.uring === undefined) {
          for (let j = i; j < chains.length; j++) this.transmit(a, chains[j]!);
          return;
        }
        iov.clear();
        from = i;
      }
      const start = iov.length;
      if (!this.appendTxIovecs(chain)) {
        c.drops++; // the iovecs pushed so far are left unused: no SQE points at them
        continue;
      }
      ring.prepWritev(this.tapFd, iovBase + 16 * start, iov.length - start, i);
      sizes[i] = len;
    }
    this.completeBatch(a, ring, from, chains.length);
  }

  /** Submits the queued SQEs of chains from..to-1 and counts each result (bytes, or -errno: a drop). */
  private completeBatch(a: Queue, ring: IoUring, from: number, to: number): void {
    const c = a.c;
    const sizes = this.txSizes;
    try {
      ring.submitAndWait();
    } catch {
      // io_uring_enter itself failed: none of these frames is known to have left. Count them as
      // drops and use writev from now on.
      for (let j = from; j < to; j++) if (sizes[j]! >= 0) c.drops++;
      ring.close();
      this.uring = undefined;
      return;
    }
    const results = ring.results;
    for (let j = from; j < to; j++) {
      const len = sizes[j]!;
      if (len < 0) continue;
      const r = results[j]!;
      if (r >= 0) {
        c.packets++;
        c.bytes += len - HDR;
        continue;
      }
      c.drops++; // EAGAIN: the tap queue is full, the kernel would drop it too
      if (errnoName(-r) !== 'EAGAIN') this.tapError(new SysError({ syscall: 'writev', errno: -r, target: `fd ${this.tapFd}` }), 'writev', a.index);
    }
  }

  // ---- receive ----------------------------------------------------------------------------------

  private serviceRx(): void {
    const a = this.rx;
    this.rxPending = false;
    if (a === undefined || a.q.needsReset || this.tapDead || this.rxStalled) return;
    const { mem, pool, heads, lens } = this;
    const q = a.q;
    const c = a.c;
    const mrg = this.data.mrgRxbuf;
    if (this.net.filterVersion !== this.filterVersion) {
      ({ state: this.filter, version: this.filterVersion } = this.net.readFilter(this.filter));
    }
    const onUnusable = (): void => {
      a.unusable++;
    };
    let used = 0;
    let budget = BUDGET;
    while (budget > 0) {
      if (!this.net.linkUp) {
        // Link down: frames are taken off the tap and dropped, the guest's buffers stay untouched.
        const n = this.readTap(this.scratch, a.index);
        if (n < 0) break;
        c.drops++;
        budget--;
        continue;
      }
      if (mrg ? pool.capacity < MAX_FRAME : pool.length === 0) pool.fill(mem, q, mrg ? MAX_FRAME : 1, q.size, onUnusable);
      if (pool.length === 0) {
        if (this.checkBroken(a)) break;
        if (q.enableNotification(mem)) {
          q.disableNotification(mem); // buffers arrived meanwhile: no kicks needed while we have some
          continue;
        }
        // Out of buffers: sleep until the guest kicks; a frame waiting or arriving meanwhile is a noBuffer.
        this.stallTapPolling();
        break;
      }
      const iov = this.rxIov;
      iov.clear();
      const direct = pool.fillIov(iov, mrg ? this.zeroCopyLimit : MAX_FRAME, RX_MAX_BUFFERS);
      // MRG_RXBUF: whatever the held chains hold beyond `direct` is read into the bounce buffer.
      const rest = mrg ? Math.min(pool.capacity, MAX_FRAME) - direct : 0;
      if (rest > 0) iov.push(this.sinkAddr, rest); // the bounce buffer
      const capacity = direct + Math.max(0, rest);
      iov.push(this.sinkAddr + MAX_FRAME, 1); // the overflow byte, right after the bounce buffer
      let n: number;
      try {
        n = readvFd(this.tapFd, iov);
      } catch (e) {
        c.drops++;
        this.tapError(e, 'readv', a.index);
        break;
      }
      if (n < 0) break; // the tap queue is empty
      budget--;
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
      if (!this.filter.promisc && !rxFilterAccepts(this.frameHead(n), this.filter)) {
        c.filtered++; // consumed from the tap, never delivered: the chains stay held
        continue;
      }
      this.patchHeader(n);
      used += pool.consume(n, heads, lens, used);
      c.packets++;
      c.bytes += n - HDR;
      if (used >= USED_BATCH) {
        // Hand this step's buffers to the guest now; the turn goes on.
        q.addUsedBatch(mem, heads, lens, used);
        used = 0;
        this.publish(a);
        if (q.needsNotification(mem)) a.call.write(1n);
      }
    }
    if (budget === 0) this.rxPending = true;
    this.syncMalformed(a);
    if (used > 0) q.addUsedBatch(mem, heads, lens, used);
    this.publish(a);
    if (q.needsNotification(mem)) a.call.write(1n);
    this.checkBroken(a);
  }

  /** The frame's first 16 bytes (Ethernet header + VLAN TCI) for the filter, zero-copy when possible. */
  private frameHead(n: number): Uint8Array {
    const want = Math.min(n - HDR, ETH_HLEN + 2);
    const chain = this.pool.first()!;
    const d = chain.descriptors[chain.firstWritable]!;
    if (d.len >= HDR + want) {
      const s = this.mem.slice(d.addr + HDR, want);
      if (s !== undefined) return s;
    }
    const out = this.filterHead.subarray(0, want);
    return out.subarray(0, this.pool.copyOut(this.mem, HDR, out));
  }

  /** Sets num_buffers (and clears flags without GUEST_CSUM) in the header at the start of the first held chain. */
  private patchHeader(frameBytes: number): void {
    const chain = this.pool.first()!;
    const buffers = this.data.mrgRxbuf ? this.pool.countFor(frameBytes) : 1;
    const mem = this.mem;
    const d = chain.descriptors[chain.firstWritable]!;
    const r = d.len >= HDR ? mem.regionOf(d.addr, HDR) : undefined;
    if (r !== undefined) {
      const off = d.addr - r.guestPhysAddr;
      r.view.setUint16(off + 10, buffers, true);
      if (!this.data.guestCsum) r.view.setUint8(off, 0);
      return;
    }
    // The header spans descriptors of the first chain (it always fits in the chain: >= 12 bytes).
    chain.writeFrom(mem, Uint8Array.of(buffers & 0xff, buffers >>> 8), 10);
    if (!this.data.guestCsum) chain.writeFrom(mem, Uint8Array.of(0), 0);
  }

  private readTap(buf: Uint8Array, queueIndex: number): number {
    try {
      return readFd(this.tapFd, buf);
    } catch (e) {
      this.tapError(e, 'read', queueIndex);
      return -1;
    }
  }

  /** Stops reading the tap until the RX kick; one readiness report is kept to count the noBuffer event. */
  private stallTapPolling(): void {
    if (this.rxStalled) return;
    this.rxStalled = true;
    this.epoll.modify(this.tapFd, EPOLLIN | EPOLLONESHOT, EV_TAP);
  }

  private resumeTapPolling(): void {
    this.rxStalled = false;
    if (this.rx !== undefined) this.rx.q.disableNotification(this.mem);
    if (!this.tapDead) this.epoll.modify(this.tapFd, EPOLLIN, EV_TAP);
  }

  // ---- common -----------------------------------------------------------------------------------

  private queue(ctx: QueueContext): Queue {
    const { eventIdx, indirectDesc } = this.data;
    const q = new SplitQueue({ size: ctx.size, descTable: ctx.descTable, availRing: ctx.availRing, usedRing: ctx.usedRing, eventIdx, indirectDesc });
    if (ctx.state !== undefined) q.setState(ctx.state);
    const c = this.counters.read(ctx.index);
    // kick/call fds belong to the VMM: the wrappers are never closed.
    return { index: ctx.index, q, kick: EventFd.fromFd(ctx.kickFd), call: EventFd.fromFd(ctx.callFd), c, malformedBase: c.malformed, unusable: 0, reported: false };
  }

  private syncMalformed(a: Queue): void {
    a.c.malformed = a.malformedBase + a.q.malformed + a.unusable;
  }

  private publish(a: Queue): void {
    const ring: QueueState =
      a === this.rx ? { nextAvail: this.pool.resumePoint(a.q), nextUsed: a.q.nextUsed } : a.q.getState();
    this.counters.publish(a.index, a.c, ring);
  }

  /** Posts `needs-reset` once when the queue's ring is corrupt; true when it is. */
  private checkBroken(a: Queue): boolean {
    if (!a.q.needsReset) return false;
    if (!a.reported) {
      a.reported = true;
      this.publish(a);
      this.post({ type: 'needs-reset', queueIndex: a.index, reason: `${this.data.nic}: queue ${a.index}: ${a.q.brokenReason}` });
    }
    return true;
  }

  /** A tap I/O error: EBADFD/ENODEV/EIO-style failures of the queue itself stop the tap side for good. */
  private tapError(e: unknown, call: string, queueIndex: number): void {
    const code = SysError.is(e) ? e.code : undefined;
    // Per-frame rejections (a GSO header the kernel refuses, an interface that is down) are drops.
    if (code === 'EINVAL' || code === 'EIO' || code === 'ENOBUFS' || code === 'ENOMEM' || code === 'EMSGSIZE') return;
    if (this.tapDead) return;
    this.tapDead = true;
    if (this.rx !== undefined) this.epoll.modify(this.tapFd, 0, EV_TAP);
    const why = e instanceof Error ? e.message : String(e);
    this.post({ type: 'needs-reset', queueIndex, reason: `${this.data.nic}: tap ${this.data.tapName} queue ${this.data.pair}: ${call}: ${why}` });
  }

  private finish(): { rx?: QueueState; tx?: QueueState } {
    const mem = this.mem;
    const out: { rx?: QueueState; tx?: QueueState } = {};
    if (this.rx !== undefined) {
      const q = this.rx.q;
      if (!q.needsReset) {
        this.pool.rewind(mem, q);
        if (q.needsNotification(mem)) this.rx.call.write(1n);
      }
      this.syncMalformed(this.rx);
      this.publish(this.rx);
      out.rx = q.getState();
    }
    if (this.tx !== undefined) {
      this.publish(this.tx);
      out.tx = this.tx.q.getState();
    }
    return out;
  }
}
