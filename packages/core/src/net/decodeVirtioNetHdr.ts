import { VIRTIO_NET_HDR_SIZE } from '../defs/virtio_net.ts';
import type { VirtioNetHdr } from './VirtioNetHdr.ts';

/**
 * Reads the 12-byte little-endian `virtio_net_hdr` (virtio 1.2 §5.1.6) at `offset` of `src`.
 * Fills `out` when given (no allocation on the hot path), else a new object. Returns undefined
 * when fewer than 12 bytes are available: guest bytes never make it throw.
 */
export function decodeVirtioNetHdr(src: Uint8Array, offset = 0, out?: VirtioNetHdr): VirtioNetHdr | undefined {
  if (!Number.isInteger(offset) || offset < 0 || src.length - offset < VIRTIO_NET_HDR_SIZE) return undefined;
  const hdr: VirtioNetHdr = out ?? { flags: 0, gsoType: 0, hdrLen: 0, gsoSize: 0, csumStart: 0, csumOffset: 0, numBuffers: 0 };
  hdr.flags = src[offset]!;
  hdr.gsoType = src[offset + 1]!;
  hdr.hdrLen = src[offset + 2]! | (src[offset + 3]! << 8);
  hdr.gsoSize = src[offset + 4]! | (src[offset + 5]! << 8);
  hdr.csumStart = src[offset + 6]! | (src[offset + 7]! << 8);
  hdr.csumOffset = src[offset + 8]! | (src[offset + 9]! << 8);
  hdr.numBuffers = src[offset + 10]! | (src[offset + 11]! << 8);
  return hdr;
}
