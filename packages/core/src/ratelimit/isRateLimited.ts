import type { NetRateLimit } from './NetRateLimit.ts';
import type { TokenBucketConfig } from './TokenBucketConfig.ts';

/** True when some bucket of `limit` limits (a size and a refill time both non-zero). */
export function isRateLimited(limit: NetRateLimit | undefined): boolean {
  const limits = (b: TokenBucketConfig | undefined): boolean => b !== undefined && b.size > 0 && b.refillTimeMs > 0;
  return [limit?.rx, limit?.tx].some((d) => limits(d?.bandwidth) || limits(d?.ops));
}
