import { VIRTIO_NET_HDR_SIZE } from '../defs/virtio_net.ts';
import type { VirtioNetHdr } from './VirtioNetHdr.ts';

/**
 * Writes the 12-byte little-endian `virtio_net_hdr` (virtio 1.2 §5.1.6) into `dst` at `offset`
 * without allocating. Fields are truncated to their width. Returns the bytes written:
 * VIRTIO_NET_HDR_SIZE, or 0 (nothing written) when `dst` has no room at `offset`.
 */
export function encodeVirtioNetHdr(hdr: VirtioNetHdr, dst: Uint8Array, offset = 0): number {
  if (!Number.isInteger(offset) || offset < 0 || dst.length - offset < VIRTIO_NET_HDR_SIZE) return 0;
  dst[offset] = hdr.flags;
  dst[offset + 1] = hdr.gsoType;
  dst[offset + 2] = hdr.hdrLen;
  dst[offset + 3] = hdr.hdrLen >>> 8;
  dst[offset + 4] = hdr.gsoSize;
  dst[offset + 5] = hdr.gsoSize >>> 8;
  dst[offset + 6] = hdr.csumStart;
  dst[offset + 7] = hdr.csumStart >>> 8;
  dst[offset + 8] = hdr.csumOffset;
  dst[offset + 9] = hdr.csumOffset >>> 8;
  dst[offset + 10] = hdr.numBuffers;
  dst[offset + 11] = hdr.numBuffers >>> 8;
  return VIRTIO_NET_HDR_SIZE;
}
