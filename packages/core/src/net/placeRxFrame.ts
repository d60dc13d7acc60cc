import type { GuestMemory } from '../memory/GuestMemory.ts';
import type { DescriptorChain } from '../queue/DescriptorChain.ts';
import type { DeviceQueue } from '../queue/DeviceQueue.ts';
import { encodeVirtioNetHdr } from './encodeVirtioNetHdr.ts';
import { VIRTIO_NET_HDR_SIZE } from '../defs/virtio_net.ts';

/**
 * Places one received frame into the guest for a main-thread data plane: a zeroed 12-byte
 * virtio_net_hdr (num_buffers = the chains used, with MRG_RXBUF) then the frame, spread over the
 * chains taken from the front of `chains` (removed from it), returned in one used-ring batch.
 * The caller has checked the chains hold `VIRTIO_NET_HDR_SIZE + frame.length` bytes (one chain
 * without MRG_RXBUF). Returns the chains used.
 */
export function placeRxFrame(mem: GuestMemory, queue: DeviceQueue, chains: DescriptorChain[], frame: Uint8Array, mrg: boolean): number {
  const need = VIRTIO_NET_HDR_SIZE + frame.length;
  const parts: DescriptorChain[] = [];
  for (let n = 0; n < need && chains.length > 0;) {
    const ch = chains.shift()!;
    parts.push(ch);
    n += ch.writableLength;
  }
  const whole = new Uint8Array(need);
  encodeVirtioNetHdr({ flags: 0, gsoType: 0, hdrLen: 0, gsoSize: 0, csumStart: 0, csumOffset: 0, numBuffers: mrg ? parts.length : 0 }, whole, 0);
  whole.set(frame, VIRTIO_NET_HDR_SIZE);
  const heads: number[] = [];
  const lens: number[] = [];
  let off = 0;
  for (const ch of parts) {
    const n = ch.writeFrom(mem, whole.subarray(off, Math.min(need, off + ch.writableLength)));
    heads.push(ch.head);
    lens.push(n);
    off += n;
  }
  queue.addUsedBatch(mem, heads, lens);
  return parts.length;
}
