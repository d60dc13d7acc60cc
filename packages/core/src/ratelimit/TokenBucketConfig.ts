/**
 * One token bucket as a VMM configures it (Firecracker's TokenBucket: size, one_time_burst,
 * refill_time): `size` tokens (bytes or frames) refill evenly over `refillTimeMs`, so the
 * sustained rate is size / refillTimeMs per millisecond; `oneTimeBurst` extra tokens are granted
 * once, spent before the bucket's own and never refilled. A size or refill time of 0 means no
 * limit.
 */
export interface TokenBucketConfig {
  /** Tokens the bucket holds when full (integer, 0 = unlimited). */
  readonly size: number;
  /** Milliseconds to refill the whole bucket from empty (integer, 0 = unlimited). */
  readonly refillTimeMs: number;
  /** Tokens granted once on top of the bucket (integer, default 0). */
  readonly oneTimeBurst?: number | undefined;
}
