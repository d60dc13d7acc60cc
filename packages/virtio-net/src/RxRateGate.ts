import { RateLimiter } from '@vnic/core';
import { RATE_WAIT_MAX_MS } from './RATE_WAIT_MAX_MS.ts';
import { rateClockMs } from './rateClockMs.ts';
import type { SharedRateLimit } from './SharedRateLimit.ts';

/**
 * The RX side of a NIC's rate limit, for one queue's RxPath: each frame read from the tap takes
 * its bytes and one frame from the buckets before it is handed to the guest. A frame the buckets
 * refuse stays in the guest buffers it was read into, not yet used (`deferred` in RxPath), and the
 * tap is not read again until `wakeAt`: meanwhile frames wait in the tap's queue and the kernel
 * drops what overflows it, as with Firecracker. Bytes are Ethernet frame bytes.
 */
export class RxRateGate {
  /** RX waits for tokens until `wakeAt`. */
  throttled = false;
  /** When to look at the buckets again (rateClockMs; meaningful while throttled). */
  wakeAt = 0;
  private readonly shared: SharedRateLimit;
  private readonly index: number;
  private readonly scratch = new RateLimiter(undefined, 0);
  private ok = false;
  private wait = 0;

  constructor(shared: SharedRateLimit, queueIndex: number) {
    this.shared = shared;
    this.index = queueIndex;
  }

  /** Takes the tokens of one frame of `bytes` bytes: true when it may go to the guest now. */
  take(bytes: number): boolean {
    if (!this.shared.limited(0)) {
      if (this.throttled) this.release(bytes);
      return true;
    }
    const now = rateClockMs();
    this.shared.with(0, this.scratch, (l) => {
      this.ok = l.consume(bytes, 1, now);
      this.wait = this.ok ? 0 : l.waitMs(bytes, 1, now);
    });
    if (this.ok) {
      if (this.throttled) this.release(bytes);
      return true;
    }
    if (!this.throttled) this.shared.count(this.index, 1, 0);
    this.throttled = true;
    this.wakeAt = now + Math.min(Math.max(1, this.wait), RATE_WAIT_MAX_MS);
    return false;
  }

  /** True when a throttled RX should look at its buckets again. */
  due(now: number): boolean {
    return this.throttled && now >= this.wakeAt;
  }

  /** The frame that waited goes now: counted in throttledBytes. */
  private release(bytes: number): void {
    this.throttled = false;
    this.shared.count(this.index, 0, bytes);
  }
}
