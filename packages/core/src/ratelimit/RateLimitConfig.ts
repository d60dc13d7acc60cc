import type { TokenBucketConfig } from './TokenBucketConfig.ts';

/** The limits of one direction: a bucket of bytes and one of frames (operations); an absent bucket does not limit. */
export interface RateLimitConfig {
  /** Bytes (Ethernet frame bytes, virtio_net_hdr excluded). */
  readonly bandwidth?: TokenBucketConfig | undefined;
  /** Frames. */
  readonly ops?: TokenBucketConfig | undefined;
}
