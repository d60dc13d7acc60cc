import { IoVecArray, SqPollGroup } from '@vnic/sys';
import { ETH_HLEN, IOV_MAX, MAX_FRAME, SQ_THREAD_IDLE_MS } from './queuePairConstants.ts';
import type { ThreadBuffers } from './ThreadBuffers.ts';

/** Allocates the buffers of one IO thread (once per thread; see ThreadBuffers). */
export function createThreadBuffers(): ThreadBuffers {
  // The bounce buffer and the overflow byte are one allocation, kept for the thread's life, so
  // their address is resolved once (no pushBytes per frame).
  const sink = new Uint8Array(MAX_FRAME + 1);
  return {
    rxIov: new IoVecArray(IOV_MAX),
    txIov: new IoVecArray(IOV_MAX),
    bounce: sink.subarray(0, MAX_FRAME),
    sinkAddr: IoVecArray.addressOf(sink),
    scratch: new Uint8Array(MAX_FRAME),
    filterHead: new Uint8Array(ETH_HLEN + 2),
    sqPoll: new SqPollGroup(SQ_THREAD_IDLE_MS),
  };
}
