import { RateLimiter, type NetRateLimit, type RateLimitConfig } from '@vnic/core';

/** Direction index: 0 = RX (frames to the guest), 1 = TX (frames from the guest). */
export type RateDirection = 0 | 1;

// Layout: Int32 [lock rx, lock tx, limited rx, limited tx] (16 bytes, padded to 16), then per
// direction RateLimiter.STATE_WORDS float64 words, then per queue two float64 counters
// (throttled events, throttled bytes).
const INTS = 4;
const LOCK = 0;
const LIMITED = 2;
const STATE_AT = 2; // float64 index after the 16-byte header
const W = RateLimiter.STATE_WORDS;
const COUNTERS_AT = STATE_AT + 2 * W;
const MAX_SPINS = 10_000_000;

/** The throttle counters of one queue. */
export interface RateLimitCounters {
  /** Times the queue's direction stopped because the rate limit had no tokens. */
  readonly throttled: number;
  /** Bytes of the frames that waited for tokens (each frame once, when it finally went). */
  readonly throttledBytes: number;
}

/**
 * A NIC's rate limiters (RX and TX, each a bytes and a frames bucket) in a SharedArrayBuffer that
 * the main thread (config, run-time changes) and every IO thread serving one of the NIC's queue
 * pairs use, so the limit is the NIC's whatever the number of pairs. Each direction's buckets sit
 * behind a spin lock held for a few hundred ns (load, consume, save); `limited` is read without
 * the lock so an unlimited direction costs one atomic load per step. Per-queue throttle counters
 * are written under the lock by the queue's thread and read by stats().
 */
export class SharedRateLimit {
  /** The shared memory (postMessage it to the IO threads). */
  readonly buffer: SharedArrayBuffer;
  /** Queue slots of the counters. */
  readonly queues: number;
  private readonly ints: Int32Array;
  private readonly floats: Float64Array;

  /** A new block for `queues` queues (nothing limited), or a view of an existing `buffer`. */
  constructor(source: number | SharedArrayBuffer) {
    this.buffer = typeof source === 'number' ? new SharedArrayBuffer(8 * (COUNTERS_AT + 2 * Math.max(1, source))) : source;
    this.ints = new Int32Array(this.buffer, 0, INTS);
    this.floats = new Float64Array(this.buffer);
    this.queues = (this.floats.length - COUNTERS_AT) / 2;
    if (typeof source === 'number') {
      const empty = new RateLimiter(undefined, 0);
      empty.save(this.floats, STATE_AT);
      empty.save(this.floats, STATE_AT + W);
    }
  }

  /** True when direction `dir` has a bucket that limits (no lock taken). */
  limited(dir: RateDirection): boolean {
    return Atomics.load(this.ints, LIMITED + dir) === 1;
  }

  /**
   * Sets both directions' limits at `nowMs` (the config, or a run-time change): the buckets take
   * the new sizes and rates without starting over (RateLimiter.update). Throws a VnicError
   * `invalid-argument` for a bad bucket, before anything changes.
   */
  set(limit: NetRateLimit | undefined, nowMs: number): void {
    const rx = limit?.rx;
    const tx = limit?.tx;
    // Validated first: a bad bucket changes neither direction.
    new RateLimiter(rx, nowMs);
    new RateLimiter(tx, nowMs);
    this.apply(0, rx, nowMs);
    this.apply(1, tx, nowMs);
  }

  /**
   * Runs `fn` with direction `dir`'s limiter, loaded into `scratch` under the lock, and saves it
   * back. `fn` must be short and must not throw.
   */
  with<T>(dir: RateDirection, scratch: RateLimiter, fn: (l: RateLimiter) => T): T {
    this.lock(dir);
    try {
      scratch.load(this.floats, STATE_AT + dir * W);
      const out = fn(scratch);
      scratch.save(this.floats, STATE_AT + dir * W);
      return out;
    } finally {
      Atomics.store(this.ints, LOCK + dir, 0);
    }
  }

  /** Adds to queue `index`'s counters (its own thread only). */
  count(index: number, events: number, bytes: number): void {
    if (index >= this.queues) return;
    const at = COUNTERS_AT + 2 * index;
    this.floats[at] = this.floats[at]! + events;
    this.floats[at + 1] = this.floats[at + 1]! + bytes;
  }

  /** Queue `index`'s throttle counters. */
  counters(index: number): RateLimitCounters {
    if (index >= this.queues) return { throttled: 0, throttledBytes: 0 };
    const at = COUNTERS_AT + 2 * index;
    return { throttled: this.floats[at]!, throttledBytes: this.floats[at + 1]! };
  }

  private apply(dir: RateDirection, config: RateLimitConfig | undefined, nowMs: number): void {
    const l = new RateLimiter(undefined, nowMs);
    this.with(dir, l, (x) => x.update(config, nowMs));
    Atomics.store(this.ints, LIMITED + dir, l.unlimited ? 0 : 1);
  }

  private lock(dir: RateDirection): void {
    // A holder that died mid-section (a terminated thread) must not hang the others: after
    // MAX_SPINS the lock is taken anyway (the buckets stay valid numbers either way).
    for (let i = 0; i < MAX_SPINS; i++) if (Atomics.compareExchange(this.ints, LOCK + dir, 0, 1) === 0) return;
  }
}
