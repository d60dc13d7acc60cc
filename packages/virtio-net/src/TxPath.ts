import type { DescriptorChain, GuestMemory } from '@vnic/core';
import { errnoName, IoUring, SysError, writevFd, type IoVecArray } from '@vnic/sys';
import type { LoopQueue } from './LoopQueue.ts';
import { BUDGET, ETH_HLEN, HDR, IOV_MAX, MAX_FRAME, USED_BATCH } from './queuePairConstants.ts';
import type { QueuePairHost } from './QueuePairHost.ts';
import type { SharedNetState } from './SharedNetState.ts';
import type { ThreadBuffers } from './ThreadBuffers.ts';

/**
 * The transmit side of a QueuePairLoop: drains the TX ring and writes each frame to the tap
 * straight from guest memory, with one writev per frame or, with io_uring, one io_uring_enter per
 * step (falling back to writev when io_uring is not there or fails); publishes the used ring and
 * notifies once per step (EVENT_IDX aware).
 */
export class TxPath {
  /** More chains may wait (the turn's budget ran out): the loop comes back without sleeping. */
  txPending = false;
  readonly queue: LoopQueue;
  private readonly host: QueuePairHost;
  private readonly mem: GuestMemory;
  private readonly net: SharedNetState;
  private readonly tapFd: number;
  private readonly txIov: IoVecArray;
  private readonly heads: number[] = [];
  private readonly lens: number[] = [];
  private readonly txChains: DescriptorChain[] = [];
  /** TX with io_uring: one SQE per frame, one io_uring_enter per step (undefined: writev per frame). */
  private uring: IoUring | undefined;
  /** Per chain of a TX step: its readable length when its SQE was queued, -1 when it was dropped. */
  private readonly txSizes: number[] = [];

  constructor(host: QueuePairHost, queue: LoopQueue, buffers: ThreadBuffers) {
    this.host = host;
    this.queue = queue;
    this.mem = host.mem;
    this.net = host.net;
    this.tapFd = host.tapFd;
    this.txIov = buffers.txIov;
    if (host.data.txIoUring) {
      try {
        this.uring = IoUring.create(USED_BATCH);
      } catch {
        this.uring = undefined; // io_uring not available here: one writev per frame
      }
    }
  }

  /** Releases the io_uring instance. */
  close(): void {
    this.uring?.close();
  }

  serviceTx(): void {
    const a = this.queue;
    this.txPending = false;
    if (a.q.needsReset) return;
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
      this.host.syncMalformed(a);
      this.host.publish(a);
      for (let i = 0; i < chains.length; i++) {
        heads[i] = chains[i]!.head;
        lens[i] = 0;
      }
      if (this.uring !== undefined) this.transmitBatch(a, chains, this.uring);
      else for (let i = 0; i < chains.length; i++) this.transmit(a, chains[i]!);
      q.addUsedBatch(mem, heads, lens, chains.length);
      this.host.publish(a);
      if (q.needsNotification(mem)) a.call.write(1n);
      if (this.host.checkBroken(a)) return;
      if (budget === 0) {
        this.txPending = true; // more may wait: come back after RX had its turn
        return;
      }
      if (chains.length === limit) continue; // a full step: the ring may hold more
      if (!q.enableNotification(mem)) return;
    }
  }

  private transmit(a: LoopQueue, chain: DescriptorChain): void {
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
      this.host.tapError(e, 'writev', a.index);
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
    return !linkUp || this.host.tapDead || len < HDR + ETH_HLEN || len > MAX_FRAME;
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
  private transmitBatch(a: LoopQueue, chains: readonly DescriptorChain[], ring: IoUring): void {
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
  private completeBatch(a: LoopQueue, ring: IoUring, from: number, to: number): void {
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
      if (errnoName(-r) !== 'EAGAIN') this.host.tapError(new SysError({ syscall: 'writev', errno: -r, target: `fd ${this.tapFd}` }), 'writev', a.index);
    }
  }
}
