import { VnicError } from '../errors/VnicError.ts';
import type { TokenBucketConfig } from './TokenBucketConfig.ts';

/**
 * A token bucket (the model Firecracker's rate limiter uses): `size` tokens refill evenly over
 * `refillTimeMs`, a one-time burst is spent first and never refilled, and a size or refill time of
 * 0 means unlimited. Pure logic: the caller passes the time (integer milliseconds of a monotonic
 * clock) to every call; nothing here reads a clock.
 *
 * Exact integer arithmetic, no drift: the tokens that `e` ms add are floor((e * size + frac) /
 * refillTimeMs), the remainder `frac` carried to the next refill, computed without ever forming
 * e * size (size = sq * refillTimeMs + sr, so only r * sr with r, sr < refillTimeMs is a product of
 * two large numbers, and refillTimeMs <= MAX_REFILL_TIME_MS keeps it below 2^53). Over any time,
 * the tokens added are exactly floor(elapsed * size / refillTimeMs) while the bucket is not full.
 *
 * The bucket never goes negative. A request larger than the bucket (a 64 KiB GSO frame against
 * a 16 KiB bucket) can never be met by tokens alone: it is taken when the bucket is full, which
 * empties it and records the excess as `owed`, paid back from the next refills before any token
 * becomes available again (as Firecracker's over-consumption, which makes the caller wait
 * accordingly). So the long-run rate holds for any request size.
 *
 * `save` and `load` copy the whole state to and from a Float64Array, so the state can live in
 * shared memory and be used by several threads (under the caller's lock).
 */
export class TokenBucket {
  /** Longest refill time: refillTimeMs^2 stays below 2^53 (one day). */
  static readonly MAX_REFILL_TIME_MS = 86_400_000;
  /** Largest size (and one-time burst). */
  static readonly MAX_SIZE = 2 ** 48;
  /** Float64 words `save` writes and `load` reads. */
  static readonly STATE_WORDS = 7;

  private size = 0;
  private refill = 0;
  /** size = sq * refill + sr. */
  private sq = 0;
  private sr = 0;
  private level = 0;
  private burst = 0;
  private debt = 0;
  private last = 0;
  private frac = 0;

  /** A full bucket (plus its one-time burst) at `nowMs`; undefined config = unlimited. Throws a VnicError `invalid-argument` for a bad config. */
  constructor(config: TokenBucketConfig | undefined, nowMs: number) {
    this.configure(config, nowMs);
    this.level = this.size;
  }

  /** True when the bucket does not limit (size or refill time 0). */
  get unlimited(): boolean {
    return this.size === 0 || this.refill === 0;
  }

  /** Tokens in the bucket now (as of the last call), one-time burst excluded. */
  get tokens(): number {
    return this.level;
  }

  /** What is left of the one-time burst. */
  get oneTimeBurst(): number {
    return this.burst;
  }

  /** Tokens owed by an over-size request, paid back before the bucket fills again. */
  get owed(): number {
    return this.debt;
  }

  /** The bucket's config now. */
  get config(): TokenBucketConfig {
    return { size: this.size, refillTimeMs: this.refill, oneTimeBurst: this.burst };
  }

  /** Adds the tokens the time since the last call earned (time that goes backwards earns none). */
  refillTo(nowMs: number): void {
    if (this.unlimited || !(nowMs > this.last)) return;
    const e = nowMs - this.last;
    this.last = nowMs;
    const need = this.size - this.level + this.debt;
    if (need === 0) {
      this.frac = 0;
      return;
    }
    const P = this.refill;
    const q = Math.floor(e / P);
    if (q >= Math.ceil(need / this.size)) {
      this.fill();
      return;
    }
    const r = e - q * P;
    const num = r * this.sr + this.frac;
    let add = q * this.size + r * this.sq + Math.floor(num / P);
    this.frac = num % P;
    const pay = Math.min(this.debt, add);
    this.debt -= pay;
    add -= pay;
    if (this.level + add >= this.size) this.fill();
    else this.level += add;
  }

  /**
   * Takes `n` tokens at `nowMs` (the one-time burst first): true when taken, false (nothing taken)
   * when there are not enough. A request above the size is taken when the bucket is full (see the
   * class). Unlimited: always true.
   */
  consume(n: number, nowMs: number): boolean {
    if (this.unlimited || n <= 0) return true;
    const fromBurst = Math.min(this.burst, n);
    const rest = n - fromBurst;
    if (rest === 0) {
      this.burst -= n;
      return true;
    }
    this.refillTo(nowMs);
    if (this.debt > 0) return false;
    if (rest <= this.level) {
      this.burst -= fromBurst;
      this.level -= rest;
      return true;
    }
    if (rest > this.size && this.level === this.size) {
      this.burst -= fromBurst;
      this.debt = rest - this.size;
      this.level = 0;
      return true;
    }
    return false;
  }

  /** Gives back `n` tokens taken and not used (pays a debt first; the bucket never overfills). */
  refund(n: number): void {
    if (this.unlimited || n <= 0) return;
    const pay = Math.min(this.debt, n);
    this.debt -= pay;
    this.level = Math.min(this.size, this.level + n - pay);
  }

  /** Milliseconds from `nowMs` until consume(n) can succeed (0: now). */
  waitMs(n: number, nowMs: number): number {
    if (this.unlimited || n <= 0) return 0;
    this.refillTo(nowMs);
    const rest = n - Math.min(this.burst, n);
    if (rest === 0) return 0;
    const need = this.debt + Math.min(rest, this.size) - this.level;
    if (need <= 0 && this.debt === 0) return 0;
    let t = Math.max(1, Math.ceil(Math.max(0, need * this.refill - this.frac) / this.size));
    // The estimate is a float; the exact count of tokens `t` ms earn decides.
    while (t > 1 && this.earned(t - 1) >= need) t--;
    while (this.earned(t) < need) t++;
    return t;
  }

  /**
   * Takes a new config at `nowMs` without starting over: the tokens earned so far are kept
   * (clipped to the new size; a bucket that was unlimited starts full), so is a debt; the new
   * config's one-time burst replaces what was left of the old one.
   */
  update(config: TokenBucketConfig | undefined, nowMs: number): void {
    this.refillTo(nowMs);
    const wasUnlimited = this.unlimited;
    const level = this.level;
    this.configure(config, nowMs);
    this.level = wasUnlimited ? this.size : Math.min(level, this.size);
    if (this.unlimited) this.debt = 0;
  }

  /** Writes the state (config included) into `out` at `at` (STATE_WORDS words). */
  save(out: Float64Array, at: number): void {
    out[at] = this.size;
    out[at + 1] = this.refill;
    out[at + 2] = this.level;
    out[at + 3] = this.burst;
    out[at + 4] = this.debt;
    out[at + 5] = this.last;
    out[at + 6] = this.frac;
  }

  /** Takes the state `save` wrote (config included). */
  load(src: Float64Array, at: number): void {
    const size = src[at]!;
    const refill = src[at + 1]!;
    if (size !== this.size || refill !== this.refill) this.setRate(size, refill);
    this.level = src[at + 2]!;
    this.burst = src[at + 3]!;
    this.debt = src[at + 4]!;
    this.last = src[at + 5]!;
    this.frac = src[at + 6]!;
  }

  /** Exact tokens `e` ms earn from now (frac carried), e*size never formed. */
  private earned(e: number): number {
    const P = this.refill;
    const q = Math.floor(e / P);
    const r = e - q * P;
    return q * this.size + r * this.sq + Math.floor((r * this.sr + this.frac) / P);
  }

  private fill(): void {
    this.level = this.size;
    this.debt = 0;
    this.frac = 0;
  }

  private configure(config: TokenBucketConfig | undefined, nowMs: number): void {
    const size = config?.size ?? 0;
    const refill = config?.refillTimeMs ?? 0;
    const burst = config?.oneTimeBurst ?? 0;
    check('size', size, TokenBucket.MAX_SIZE);
    check('refillTimeMs', refill, TokenBucket.MAX_REFILL_TIME_MS);
    check('oneTimeBurst', burst, TokenBucket.MAX_SIZE);
    this.setRate(size, refill);
    this.burst = this.unlimited ? 0 : burst;
    this.last = nowMs;
    this.frac = 0;
  }

  private setRate(size: number, refill: number): void {
    this.size = size;
    this.refill = refill;
    this.sq = refill === 0 ? 0 : Math.floor(size / refill);
    this.sr = refill === 0 ? 0 : size - this.sq * refill;
  }
}

function check(field: string, value: number, max: number): void {
  if (!Number.isInteger(value) || value < 0 || value > max) {
    throw new VnicError('invalid-argument', `token bucket ${field}: must be an integer from 0 to ${max}, got ${String(value)}`);
  }
}
