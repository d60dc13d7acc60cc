import { describe, expect, it } from 'vitest';
import { VnicError } from '../errors/VnicError.ts';
import { RateLimiter } from './RateLimiter.ts';
import { TokenBucket } from './TokenBucket.ts';

describe('TokenBucket', () => {
  it('starts full, refills size/refillTimeMs per ms and never holds more than its size', () => {
    const b = new TokenBucket({ size: 1000, refillTimeMs: 100 }, 0);
    expect(b.consume(1000, 0)).toBe(true);
    expect(b.consume(1, 0)).toBe(false);
    expect(b.consume(100, 10)).toBe(true); // 10 ms earn 100
    expect(b.consume(1, 10)).toBe(false);
    b.refillTo(10_000);
    expect(b.tokens).toBe(1000);
  });

  it('carries fractions of a token instead of losing them (3 tokens per 1000 ms)', () => {
    const b = new TokenBucket({ size: 3, refillTimeMs: 1000 }, 0);
    expect(b.consume(3, 0)).toBe(true);
    for (let t = 1; t <= 333; t++) expect(b.consume(1, t)).toBe(false);
    expect(b.consume(1, 334)).toBe(true); // 334 * 3 / 1000 = 1.002
    expect(b.consume(1, 666)).toBe(false); // 666 * 3 / 1000 = 1.998: the second token not yet
    expect(b.consume(1, 667)).toBe(true);
  });

  it('spends the one-time burst first and never refills it', () => {
    const b = new TokenBucket({ size: 10, refillTimeMs: 10, oneTimeBurst: 50 }, 0);
    expect(b.consume(55, 0)).toBe(true);
    expect(b.oneTimeBurst).toBe(0);
    expect(b.tokens).toBe(5);
    b.refillTo(1000);
    expect(b.tokens + b.oneTimeBurst).toBe(10);
  });

  it('takes a request larger than the bucket when full and makes it wait for the excess', () => {
    const b = new TokenBucket({ size: 100, refillTimeMs: 100 }, 0);
    expect(b.consume(10, 0)).toBe(true);
    expect(b.consume(150, 9)).toBe(false); // 99 tokens: not full, refused
    expect(b.consume(150, 10)).toBe(true); // full again: taken, 50 owed
    expect([b.tokens, b.owed]).toEqual([0, 50]);
    expect(b.waitMs(1, 10)).toBe(51); // the debt first, then one token
    expect(b.consume(1, 60)).toBe(false);
    expect(b.consume(1, 61)).toBe(true);
  });

  it('size 0 or refill time 0 is unlimited', () => {
    for (const cfg of [{ size: 0, refillTimeMs: 100 }, { size: 100, refillTimeMs: 0 }, undefined]) {
      const b = new TokenBucket(cfg, 0);
      expect(b.unlimited).toBe(true);
      for (let i = 0; i < 100; i++) expect(b.consume(1e9, 0)).toBe(true);
      expect(b.waitMs(1e9, 0)).toBe(0);
    }
  });

  it('refund gives tokens back, debt first, never above the size', () => {
    const b = new TokenBucket({ size: 100, refillTimeMs: 100 }, 0);
    expect(b.consume(60, 0)).toBe(true);
    b.refund(500);
    expect(b.tokens).toBe(100);
    expect(b.consume(130, 0)).toBe(true);
    expect(b.owed).toBe(30);
    b.refund(40);
    expect([b.owed, b.tokens]).toEqual([0, 10]);
  });

  it('update keeps the tokens earned (clipped to the new size) and applies the new rate from then on', () => {
    const b = new TokenBucket({ size: 1000, refillTimeMs: 1000 }, 0);
    expect(b.consume(1000, 0)).toBe(true);
    b.update({ size: 200, refillTimeMs: 100 }, 500); // 500 earned at the old rate, clipped to 200
    expect(b.tokens).toBe(200);
    expect(b.consume(200, 500)).toBe(true);
    expect(b.consume(20, 510)).toBe(true); // 2 tokens per ms now
    expect(b.consume(1, 510)).toBe(false);
  });

  it('save and load carry the whole state', () => {
    const a = new TokenBucket({ size: 7, refillTimeMs: 13, oneTimeBurst: 3 }, 5);
    a.consume(9, 6);
    a.refillTo(11);
    const words = new Float64Array(TokenBucket.STATE_WORDS);
    a.save(words, 0);
    const b = new TokenBucket(undefined, 0);
    b.load(words, 0);
    for (let t = 11; t < 100; t++) expect(b.consume(1, t)).toBe(a.consume(1, t));
  });

  it('refuses a config that is not a non-negative integer in range, naming the field', () => {
    expect(() => new TokenBucket({ size: 1.5, refillTimeMs: 1 }, 0)).toThrow(/size: must be an integer from 0/);
    expect(() => new TokenBucket({ size: 1, refillTimeMs: TokenBucket.MAX_REFILL_TIME_MS + 1 }, 0)).toThrow(/refillTimeMs/);
    expect(() => new TokenBucket({ size: 1, refillTimeMs: 1, oneTimeBurst: -1 }, 0)).toThrow(VnicError);
  });
});

describe('RateLimiter', () => {
  it('takes both buckets or neither', () => {
    const r = new RateLimiter({ bandwidth: { size: 1000, refillTimeMs: 1000 }, ops: { size: 2, refillTimeMs: 1000 } }, 0);
    expect(r.consume(100, 1, 0)).toBe(true);
    expect(r.consume(100, 1, 0)).toBe(true);
    expect(r.consume(100, 1, 0)).toBe(false); // ops empty: the bytes are not taken either
    expect(r.bandwidth.tokens).toBe(800);
    expect(r.waitMs(100, 1, 0)).toBe(500);
  });
});
