import type { DirtyLog } from '@vnic/core';
import type { RxChainPool } from './RxChainPool.ts';

/** What RxUringBatch needs from the RxPath it reads for: its held chains and its per-frame delivery. */
export interface RxBatchSink {
  /** The chains popped and not filled yet, in pop order. */
  readonly pool: RxChainPool;
  /** While a migration runs: where the pages of every byte read or copied into guest buffers are marked. */
  readonly dirtyLog: DirtyLog | null;
  /** A delivered frame waits for rate-limit tokens in the held chains: nothing may be delivered before it goes. */
  readonly rateDeferred: boolean;
  /**
   * The frame of `n` bytes (header included) now lies in the held chains from the first: applies
   * the receive filter and the rate limit, patches the header and queues the used elements. False
   * when the filter refused it or it waits for tokens (`rateDeferred`): the chains stay held.
   */
  deliverHeld(n: number): boolean;
  /**
   * Pops chains until the pool can take a frame of `n` bytes (MRG_RXBUF: that many writable bytes;
   * otherwise one chain) or holds `chains` chains, whichever is more; false when the ring has too few.
   */
  refill(n: number, chains: number): boolean;
  /** A frame taken off the tap could not be delivered (runt, truncated): counted as a drop. */
  dropped(): void;
  /** The tap failed a read with `errno` (a drop, or the end of the tap side). */
  readFailed(errno: number): void;
}
