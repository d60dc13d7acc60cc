import { RateLimiter, type ChainArena } from '@vnic/core';
import { HDR } from './queuePairConstants.ts';
import type { QueueCounters } from './QueueCounters.ts';
import { RATE_WAIT_MAX_MS } from './RATE_WAIT_MAX_MS.ts';
import { rateClockMs } from './rateClockMs.ts';
import type { SharedRateLimit } from './SharedRateLimit.ts';

/** What TxPath marks a chain it holds (as its own KEPT). */
const KEPT = 1;

/**
 * The TX side of a NIC's rate limit, for one queue's TxPath: before a step `admit` reserves the
 * tokens of the longest prefix of the step's chains the buckets allow; the rest stay in the ring
 * (held by TxPath, as for a full tap: nothing is dropped, the guest sees its ring fill up) until
 * `wakeAt`, when the loop gives TX a turn again. After the step `settle` gives back the tokens of
 * the reserved chains that did not go (the tap refused them, or they were dropped), so the tokens
 * taken are exactly the bytes and frames that left. Bytes are Ethernet frame bytes (the
 * virtio_net_hdr is not counted), as QueueCounters.bytes.
 */
export class TxRateGate {
  /** TX waits for tokens until `wakeAt`. */
  throttled = false;
  /** When to look at the buckets again (rateClockMs; meaningful while throttled). */
  wakeAt = 0;
  /** The tap refused an admitted chain in the last step (TxPath waits for EPOLLOUT then). */
  tapFull = false;
  private readonly shared: SharedRateLimit;
  private readonly index: number;
  private readonly scratch = new RateLimiter(undefined, 0);
  private reservedBytes = 0;
  private reservedFrames = 0;
  private bytes0 = 0;
  private packets0 = 0;
  /** Chains at the front of the arena that have waited for tokens (counted in throttledBytes once they go). */
  private waited = 0;

  constructor(shared: SharedRateLimit, queueIndex: number) {
    this.shared = shared;
    this.index = queueIndex;
  }

  /** Reserves tokens for chains 0..k-1 of the step (k returned, up to `n`); the others must be held. */
  admit(chains: ChainArena, n: number, c: QueueCounters): number {
    this.bytes0 = c.bytes;
    this.packets0 = c.packets;
    this.reservedBytes = 0;
    this.reservedFrames = 0;
    if (!this.shared.limited(1)) {
      this.throttled = false;
      return n;
    }
    const now = rateClockMs();
    const readable = chains.readable;
    let k = 0;
    let wait = 0;
    this.shared.with(1, this.scratch, (l) => {
      for (; k < n; k++) {
        const bytes = Math.max(0, readable[k]! - HDR);
        if (!l.consume(bytes, 1, now)) {
          wait = l.waitMs(bytes, 1, now);
          break;
        }
        this.reservedBytes += bytes;
        this.reservedFrames++;
      }
    });
    if (k < n) {
      if (!this.throttled) this.shared.count(this.index, 1, 0);
      this.throttled = true;
      this.wakeAt = now + Math.min(Math.max(1, wait), RATE_WAIT_MAX_MS);
    } else {
      this.throttled = false;
    }
    return k;
  }

  /** After the step, before TxPath retains the held chains: refunds what did not go, counts the waited frames that went. */
  settle(chains: ChainArena, status: Uint8Array, n: number, admitted: number, c: QueueCounters): void {
    const unsentBytes = this.reservedBytes - (c.bytes - this.bytes0);
    const unsentFrames = this.reservedFrames - (c.packets - this.packets0);
    if (unsentBytes > 0 || unsentFrames > 0) this.shared.with(1, this.scratch, (l) => l.refund(Math.max(0, unsentBytes), Math.max(0, unsentFrames)));
    let tapFull = false;
    for (let i = 0; i < admitted; i++) if (status[i] === KEPT) tapFull = true;
    this.tapFull = tapFull;
    let wentBytes = 0;
    let stillWaiting = 0;
    const w = Math.min(this.waited, n);
    for (let i = 0; i < w; i++) {
      if (status[i] === KEPT) stillWaiting++;
      else wentBytes += Math.max(0, chains.readable[i]! - HDR);
    }
    if (wentBytes > 0) this.shared.count(this.index, 0, wentBytes);
    if (this.throttled) {
      let held = 0;
      for (let i = 0; i < n; i++) if (status[i] === KEPT) held++;
      this.waited = held;
    } else {
      this.waited = stillWaiting;
    }
  }

  /** True when a throttled TX should look at its buckets again. */
  due(now: number): boolean {
    return this.throttled && now >= this.wakeAt;
  }
}
