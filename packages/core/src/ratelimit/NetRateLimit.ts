import type { RateLimitConfig } from './RateLimitConfig.ts';

/**
 * A NIC's rate limits per direction, seen from the guest: `rx` the frames the NIC delivers to the
 * guest, `tx` the frames the guest sends. An absent direction is not limited.
 */
export interface NetRateLimit {
  readonly rx?: RateLimitConfig | undefined;
  readonly tx?: RateLimitConfig | undefined;
}
