import type { RateLimitConfig } from './RateLimitConfig.ts';
import { TokenBucket } from './TokenBucket.ts';

/**
 * The limiter of one direction: a bandwidth bucket (bytes) and an ops bucket (frames), both of
 * which a frame must pass (Firecracker's RateLimiter). Pure logic, time passed in (integer ms).
 */
export class RateLimiter {
  /** Float64 words `save` writes and `load` reads. */
  static readonly STATE_WORDS = 2 * TokenBucket.STATE_WORDS;
  readonly bandwidth: TokenBucket;
  readonly ops: TokenBucket;

  /** Full buckets at `nowMs`; an absent bucket does not limit. Throws a VnicError `invalid-argument` for a bad bucket. */
  constructor(config: RateLimitConfig | undefined, nowMs: number) {
    this.bandwidth = new TokenBucket(config?.bandwidth, nowMs);
    this.ops = new TokenBucket(config?.ops, nowMs);
  }

  /** True when neither bucket limits. */
  get unlimited(): boolean {
    return this.bandwidth.unlimited && this.ops.unlimited;
  }

  /** Takes `bytes` bandwidth tokens and `frames` ops tokens, both or neither. */
  consume(bytes: number, frames: number, nowMs: number): boolean {
    if (!this.bandwidth.consume(bytes, nowMs)) return false;
    if (this.ops.consume(frames, nowMs)) return true;
    this.bandwidth.refund(bytes);
    return false;
  }

  /** Gives back tokens taken and not used. */
  refund(bytes: number, frames: number): void {
    this.bandwidth.refund(bytes);
    this.ops.refund(frames);
  }

  /** Milliseconds until consume(bytes, frames) can succeed (0: now). */
  waitMs(bytes: number, frames: number, nowMs: number): number {
    return Math.max(this.bandwidth.waitMs(bytes, nowMs), this.ops.waitMs(frames, nowMs));
  }

  /** Takes a new config at `nowMs` without starting over (TokenBucket.update, both buckets). */
  update(config: RateLimitConfig | undefined, nowMs: number): void {
    this.bandwidth.update(config?.bandwidth, nowMs);
    this.ops.update(config?.ops, nowMs);
  }

  /** Writes both buckets' state into `out` at `at` (STATE_WORDS words). */
  save(out: Float64Array, at: number): void {
    this.bandwidth.save(out, at);
    this.ops.save(out, at + TokenBucket.STATE_WORDS);
  }

  /** Takes the state `save` wrote. */
  load(src: Float64Array, at: number): void {
    this.bandwidth.load(src, at);
    this.ops.load(src, at + TokenBucket.STATE_WORDS);
  }
}
