import { virtio_net, type VirtioNetHdr } from '@vnic/core';
import { ipChecksum } from './packets/ipChecksum.ts';

/**
 * Completes a checksum the device left partial (virtio 1.2 §5.1.6.4.1: VIRTIO_NET_HDR_F_NEEDS_CSUM
 * with GUEST_CSUM negotiated): the 16-bit field at `csumStart + csumOffset` holds the pseudo-header
 * sum; the checksum over [csumStart, end) replaces it, in place. What Linux does with
 * skb_checksum_help() when it needs the final value. Returns false when the offsets do not fit.
 */
export function finishRxChecksum(frame: Uint8Array, hdr: Pick<VirtioNetHdr, 'flags' | 'csumStart' | 'csumOffset'>): boolean {
  if ((hdr.flags & virtio_net.VIRTIO_NET_HDR_F_NEEDS_CSUM) === 0) return true;
  const at = hdr.csumStart + hdr.csumOffset;
  if (hdr.csumStart >= frame.length || at + 2 > frame.length) return false;
  const csum = ipChecksum(frame.subarray(hdr.csumStart));
  frame[at] = csum >>> 8;
  frame[at + 1] = csum & 0xff;
  return true;
}
